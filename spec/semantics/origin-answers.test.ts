import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Agent, request } from 'undici'
import { createInterceptor } from '../../lib/fronts/dispatcher/front.js'
import { createCachedFetch } from '../../lib/index.js'
import { createEngine } from '../../lib/install/session.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/** Answers the cache passes on as the origin gave them, and what it never keeps. */
describe('answers that match the origin', () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin({
      '/proxy-fields': (_req, res) => {
        res.setHeader('proxy-authenticate', 'Basic realm="proxy"')
        res.setHeader('proxy-authentication-info', 'nextnonce="x"')
        res.setHeader('set-cookie2', 'old=1')
        res.setHeader('x-kept', 'yes')
        res.end('fields')
      },
      '/big-head': (req, res) => {
        res.setHeader('content-length', '12345')
        if (req.method === 'HEAD') res.end()
        else res.end('x'.repeat(12345))
      },
    })
  })
  after(() => origin.close())

  it('never stores Proxy-Authenticate, Proxy-Authentication-Info or Set-Cookie2 (RFC 9111 §3.1)', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    try {
      await (await cachedFetch(`${origin.url}/proxy-fields`)).text()
      const hit = await cachedFetch(`${origin.url}/proxy-fields`)
      assert.match(hit.headers.get('cache-status') ?? '', /; hit/)
      assert.equal(hit.headers.get('x-kept'), 'yes')
      assert.equal(hit.headers.get('proxy-authenticate'), null)
      assert.equal(hit.headers.get('proxy-authentication-info'), null)
      assert.equal(hit.headers.get('set-cookie2'), null)
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('never caches a blob: URL, so a revoked one fails as it does without the cache', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory' })
    try {
      const url = URL.createObjectURL(new Blob(['secret']))
      assert.equal(await (await cachedFetch(url)).text(), 'secret')
      URL.revokeObjectURL(url)
      await assert.rejects(cachedFetch(url), TypeError)
      assert.equal(await cachedFetch.cache.count(), 0)
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('answers a HEAD hit through undici with the Content-Length the origin sent', async () => {
    const { engine } = createEngine({ backend: 'memory', allowableMethods: ['GET', 'HEAD'] })
    const agent = new Agent().compose(createInterceptor(() => engine))
    try {
      const first = await request(`${origin.url}/big-head`, { method: 'HEAD', dispatcher: agent })
      await first.body.text()
      const second = await request(`${origin.url}/big-head`, { method: 'HEAD', dispatcher: agent })
      await second.body.text()
      assert.match(String(second.headers['cache-status']), /; hit/)
      assert.equal(second.headers['content-length'], '12345')
      assert.equal(origin.count('/big-head'), 1)
    } finally {
      await agent.close()
      await engine.store.close()
    }
  })
})
