import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, test } from 'node:test'
import { cacheInfo, createCachedFetch } from '../../lib/index.js'
import { FETCH, forEachFront } from '../helpers/fronts.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import { startPerTestOn } from './fixtures.js'

/** A cacheable body of `size` bytes, sent in 16 KiB chunks without Content-Length. */
function chunked(size: number) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('cache-control', 'max-age=600')
    for (let sent = 0; sent < size; sent += 16 * 1024) res.write('x'.repeat(Math.min(16 * 1024, size - sent)))
    res.end()
  }
}

forEachFront('bodies the caller never reads', (kind) => {
  const start = startPerTestOn(kind)

  test('a response whose body is never read is stored once it has arrived: the next request hits', async () => {
    const { front, origin, url } = await start({}, { '/unread': chunked(200 * 1024) })
    const first = await front.get(url('/unread'))
    assert.equal(first.stored, false, 'no Content-Length: whether it will be stored is not known yet')
    await front.settled() // the body arrived and was stored, unread
    assert.equal(await front.cache.count(), 1)
    const second = await front.get(url('/unread'))
    assert.equal(second.hit, true)
    assert.equal((await second.text()).length, 200 * 1024)
    assert.equal(origin.count('/unread'), 1)
    await first.cancel()
  })

  test('a body over maxEntrySize is not stored and Cache-Status never says stored', async () => {
    const { front, origin, url } = await start({ maxEntrySize: 64 * 1024 }, { '/big': chunked(200 * 1024) })
    const first = await front.get(url('/big'))
    assert.equal(first.stored, false)
    assert.equal((await first.text()).length, 200 * 1024, 'the caller still gets the whole body')
    const second = await front.get(url('/big'))
    assert.equal(second.hit, false)
    assert.equal(second.stored, false)
    await second.cancel()
    assert.equal(origin.count('/big'), 2)
  })
})

test('cacheInfo(response).stored settles when the write does, and a request made right then hits', async () => {
  const origin = await startOrigin({ '/a': chunked(100 * 1024), '/big': chunked(100 * 1024) })
  const { dir, cleanup } = await tempDir()
  const cachedFetch = createCachedFetch({ cacheName: `${dir}/cache`, maxEntrySize: 200 * 1024 })
  try {
    const first = await cachedFetch(`${origin.url}/a`)
    assert.equal(await cacheInfo(first)?.stored, true)
    const second = await cachedFetch(`${origin.url}/a`) // same tick as the write settling
    assert.equal(cacheInfo(second)?.fromCache, true)
    assert.equal(await cacheInfo(second)?.stored, true)
    assert.equal(origin.count('/a'), 1)
    const big = await cachedFetch(`${origin.url}/big`, { cacheOptions: { expireAfter: 600 } })
    assert.equal(cacheInfo(big)?.stored instanceof Promise, true)
    const post = await cachedFetch(`${origin.url}/a`, { method: 'POST' })
    assert.equal(await cacheInfo(post)?.stored, false, 'a POST is not stored')
    await post.body?.cancel()
    await big.body?.cancel()
  } finally {
    await cachedFetch.cache.close()
    await origin.close()
    await cleanup()
  }
})

// The fetch front only: undici.request() itself keeps one listener per body not yet read, with or
// without the cache (its RequestHandler removes it when the body closes).
describe('hits whose bodies are never read [fetch]', () => {
  const start = startPerTestOn(FETCH)

  test('5,000 hits sharing one AbortSignal leave O(1) abort listeners on it', async () => {
    const { front, url } = await start({}, { '/hit': (_req, res) => void res.end('cached') })
    const controller = new AbortController()
    await (await front.get(url('/hit'))).text()
    const listening = getEventListeners(controller.signal, 'abort').length
    const kept: unknown[] = []
    for (let i = 0; i < 5_000; i++) {
      const response = await front.get(url('/hit'), { signal: controller.signal })
      assert.equal(response.hit, true)
      kept.push(response.raw) // never read, never collected
    }
    assert.ok(getEventListeners(controller.signal, 'abort').length <= listening + 2, 'listeners stay O(1)')
    assert.equal(kept.length, 5_000)
  })
})
