import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cacheInfo, createCachedFetch } from '../../lib/index.js'
import { forEachFront } from '../helpers/fronts.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import { type Rig, rig } from '../rfc9111/harness.js'

/** A test runner's fake timers replace setImmediate; the cache's own turns of the loop must not wait on it. */
forEachFront('under fake timers', (front) => {
  let r: Rig
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('with setImmediate faked (node:test mock.timers), a run of hits long enough to yield to the loop still answers', async (t) => {
    const realSetTimeout = setTimeout
    r.answer('/faked', { headers: { 'cache-control': 'max-age=600' }, body: 'stored' })
    await (await r.front.get(r.url('/faked'))).text()
    await r.front.settled()
    t.mock.timers.enable({ apis: ['setImmediate'] })
    // Hits answered without a turn of the loop for more than 5 ms make the next one wait for a turn.
    const started = performance.now()
    let hits = 0
    while (hits < 5000 && (hits < 20 || performance.now() - started < 30)) {
      const answered = r.front.get(r.url('/faked')).then((response) => response.text())
      const timedOut = new Promise<string>((resolve) => realSetTimeout(() => resolve('no answer in 5 s'), 5000).unref())
      assert.equal(await Promise.race([answered, timedOut]), 'stored', `hit ${hits}`)
      hits++
    }
    assert.equal(r.origin.count('/faked'), 1)
  })
})

describe('the SQLite store under fake timers', () => {
  it('with setTimeout and setImmediate faked, a write lands (cacheInfo().stored settles) and inspection answers', async (t) => {
    const origin = await startOrigin({ '/sqlite': (_req, res) => void res.end('stored') })
    const { dir, cleanup } = await tempDir()
    const realSetTimeout = setTimeout
    const within = <T>(promise: Promise<T>, what: string): Promise<T | string> =>
      Promise.race([
        promise,
        new Promise<string>((resolve) => realSetTimeout(() => resolve(`${what}: no answer in 5 s`), 5000).unref()),
      ])
    t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] })
    const cachedFetch = createCachedFetch({ cacheName: join(dir, 'faked') })
    try {
      const miss = await cachedFetch(`${origin.url}/sqlite`)
      await miss.text()
      assert.equal(await within(cacheInfo(miss)?.stored as Promise<boolean>, 'stored'), true)
      assert.equal(await within(cachedFetch.cache.count(), 'count'), 1)
      const hit = await cachedFetch(`${origin.url}/sqlite`)
      assert.equal(await hit.text(), 'stored')
      assert.equal(cacheInfo(hit)?.fromCache, true)
    } finally {
      await cachedFetch.cache.close()
      await origin.close()
      await cleanup()
    }
  })
})
