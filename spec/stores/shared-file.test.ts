import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, afterEach, before, describe, it } from 'node:test'
import { cacheInfo, createCachedFetch, getCache, installCache, uninstallCache } from '../../lib/index.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/**
 * One process, one view of a file (lib/README.md, "Stores and entries"): two caches on one SQLite
 * file in one process read each other's writes and deletes at once, before the write-behind commit.
 */
describe('two caches on one SQLite file in one process', () => {
  let origin: Origin
  let dir: string
  let cleanup: () => Promise<void>
  before(async () => {
    origin = await startOrigin()
    ;({ dir, cleanup } = await tempDir())
  })
  after(async () => {
    await origin.close()
    await cleanup()
  })
  afterEach(() => uninstallCache())

  let n = 0
  function setUp() {
    const file = join(dir, `shared-${n++}.sqlite`)
    installCache({ cacheName: file })
    // The same file by another spelling of its path.
    const cachedFetch = createCachedFetch({ cacheName: join(dir, '.', `shared-${n - 1}`) })
    return { cachedFetch, url: `${origin.url}/item-${n}` }
  }

  it('installCache() reads what createCachedFetch() has just stored, as a hit', async () => {
    const { cachedFetch, url } = setUp()
    const first = await cachedFetch(url)
    await first.text()
    assert.equal(await cacheInfo(first)?.stored, true)
    const second = await fetch(url)
    assert.equal(await second.text(), `hello /item-${n}`)
    assert.equal(cacheInfo(second)?.fromCache, true)
    assert.equal(origin.count(`/item-${n}`), 1)
    await cachedFetch.cache.close()
  })

  it("after createCachedFetch()'s delete() returns 1, installCache() misses at once", async () => {
    const { cachedFetch, url } = setUp()
    const stored = await fetch(url)
    await stored.text()
    assert.equal(await cacheInfo(stored)?.stored, true)
    assert.equal(await cachedFetch.cache.delete({ urls: [url] }), 1)
    const after = await fetch(url)
    await after.text()
    assert.equal(cacheInfo(after)?.fromCache, false)
    assert.equal(origin.count(`/item-${n}`), 2)
    await cachedFetch.cache.close()
  })

  it('closing one cache leaves the other working on the file', async () => {
    const { cachedFetch, url } = setUp()
    await cachedFetch.cache.close()
    const response = await fetch(url)
    await response.text()
    assert.equal(await cacheInfo(response)?.stored, true)
    assert.equal(await getCache()?.count(), 1)
  })
})
