import assert from 'node:assert/strict'
import { afterEach, describe, test } from 'node:test'
import { request } from 'undici'
import { cacheInfo, installCache, uninstallCache } from '../../lib/index.js'
import { startOrigin } from '../helpers/origin.js'

/**
 * One cache serves every front, but a redirect is answered apart: fetch follows it (and stores where
 * it led under the first URL), undici.request() and node:http callers get the 3xx itself.
 */
describe('a redirect stored by one front, asked for through another', () => {
  afterEach(() => uninstallCache())

  async function moved() {
    const origin = await startOrigin({
      '/old': (_req, res) => {
        res.writeHead(301, { location: '/new', 'cache-control': 'max-age=600' })
        res.end('moved')
      },
      '/new': (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=600' })
        res.end('new content')
      },
    })
    installCache({ backend: 'memory', allowableCodes: [200, 301] })
    return origin
  }

  test('fetch follows a 301 that undici.request() stored', async (t) => {
    const origin = await moved()
    t.after(() => origin.close())
    const raw = await request(`${origin.url}/old`)
    assert.equal(raw.statusCode, 301)
    await raw.body.text()
    const again = await request(`${origin.url}/old`)
    assert.match(String(again.headers['cache-status']), /; hit/, 'the 301 is stored')
    await again.body.text()

    const followed = await fetch(`${origin.url}/old`)
    assert.equal(followed.status, 200)
    assert.equal(followed.redirected, true)
    assert.equal(followed.url, `${origin.url}/new`)
    assert.equal(await followed.text(), 'new content')
  })

  test('undici.request() gets the 301, not where fetch followed it to', async (t) => {
    const origin = await moved()
    t.after(() => origin.close())
    const followed = await fetch(`${origin.url}/old`)
    assert.equal(await followed.text(), 'new content')
    const hit = await fetch(`${origin.url}/old`)
    assert.equal(cacheInfo(hit)?.fromCache, true, 'where the redirect led is stored under /old')
    await hit.text()

    const raw = await request(`${origin.url}/old`)
    assert.equal(raw.statusCode, 301)
    assert.equal(raw.headers.location, '/new')
    assert.equal(await raw.body.text(), 'moved')
    assert.equal(origin.count('/old'), 2)
  })
})
