import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createCachedFetch } from '../../lib/index.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { forEachFront } from '../helpers/fronts.js'
import { startOrigin } from '../helpers/origin.js'
import { type Rig, rig } from '../rfc9111/harness.js'

/**
 * A resource whose GETs answer the version current when they arrive; the first GET is held until
 * `release()`. A POST makes the next version. `held` resolves once the first GET reached the origin.
 */
function versioned(path: string) {
  let version = 1
  let gets = 0
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let arrived!: () => void
  const held = new Promise<void>((resolve) => (arrived = resolve))
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      version++
      res.end('updated')
      return
    }
    const answer = `version ${version}`
    if (++gets === 1) {
      arrived()
      await gate
    }
    res.setHeader('cache-control', 'max-age=600')
    res.end(answer)
  }
  return { path, handler, held, release }
}

/** Requests already in flight when something changes what they may share or store. */
forEachFront('requests in flight', (front) => {
  let r: Rig
  let n = 0
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('RFC 9111 §4.4: a GET sent before a POST invalidated its URL is neither joined by a later GET nor stored', async () => {
    const resource = versioned(`/in-flight/invalidated/${++n}`)
    r.origin.route(resource.path, resource.handler)
    const first = r.front.get(r.url(resource.path))
    await resource.held
    const post = await r.front.get(r.url(resource.path), { method: 'POST', body: 'change' })
    assert.equal(await post.text(), 'updated')
    const second = await r.front.get(r.url(resource.path))
    assert.equal(await second.text(), 'version 2', 'the GET after the POST gets its own answer')
    resource.release()
    assert.equal(await (await first).text(), 'version 1', 'the GET sent before still gets what it was sent')
    await r.front.settled()
    const third = await r.front.get(r.url(resource.path))
    assert.equal(await third.text(), 'version 2', 'the answer to the earlier GET did not replace the later one')
    assert.equal(third.hit, true)
    assert.equal(r.origin.count(resource.path), 3, 'GET, POST, GET: the last GET was a hit')
  })

  it('RFC 9111 §4.4: a GET by another credential, in flight when an unsafe request invalidated its URL, is not stored', async () => {
    const resource = versioned(`/in-flight/other-credential/${++n}`)
    r.origin.route(resource.path, resource.handler)
    const first = r.front.get(r.url(resource.path), { headers: { authorization: 'Bearer B' } })
    await resource.held
    const post = await r.front.get(r.url(resource.path), {
      method: 'POST',
      body: 'change',
      headers: { authorization: 'Bearer A' },
    })
    assert.equal(await post.text(), 'updated')
    resource.release()
    assert.equal(await (await first).text(), 'version 1', 'the GET sent before still gets what it was sent')
    await r.front.settled()
    const again = await r.front.get(r.url(resource.path), { headers: { authorization: 'Bearer B' } })
    assert.equal(await again.text(), 'version 2', 'its answer was not stored')
    assert.equal(again.hit, false)
  })

  it('forceRefresh does not join an identical request already in flight: it asks the origin itself', async () => {
    const resource = versioned(`/in-flight/refresh/${++n}`)
    r.origin.route(resource.path, resource.handler)
    const first = r.front.get(r.url(resource.path))
    await resource.held
    await (await r.front.get(r.url(resource.path), { method: 'POST', body: 'change' })).text()
    // Invalidation aside, a forced refresh never shares: a second resource with no POST in between.
    const other = versioned(`/in-flight/refresh/${++n}`)
    r.origin.route(other.path, other.handler)
    const pending = r.front.get(r.url(other.path))
    await other.held
    const forced = await r.front.get(r.url(other.path), { cacheOptions: { forceRefresh: true } })
    assert.equal(await forced.text(), 'version 1')
    assert.equal(forced.hit, false)
    assert.equal(r.origin.count(other.path), 2, 'the forced request reached the origin')
    other.release()
    resource.release()
    await (await pending).text()
    await (await first).text()
  })
})

describe('fetch cache modes that ask the origin do not join a request in flight', () => {
  for (const mode of ['reload', 'no-cache'] as const) {
    it(`cache: '${mode}'`, async () => {
      const origin = await startOrigin()
      const cachedFetch = createCachedFetch({ backend: 'memory' })
      try {
        let answered = 0
        const resource = versioned('/mode')
        origin.route('/mode', async (req, res) => {
          answered++
          if (answered > 1) res.setHeader('x-answer', String(answered))
          await resource.handler(req, res)
        })
        const first = cachedFetch(`${origin.url}/mode`)
        await resource.held
        const forced = await cachedFetch(`${origin.url}/mode`, { cache: mode })
        assert.equal(forced.headers.get('x-answer'), '2', 'its own answer')
        assert.equal(cacheInfo(forced)?.fromCache, false)
        await forced.text()
        resource.release()
        await (await first).text()
        assert.equal(origin.count('/mode'), 2)
      } finally {
        await cachedFetch.cache.close()
        await origin.close()
      }
    })
  }
})
