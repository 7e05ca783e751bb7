import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Agent, request } from 'undici'
import { isFetchCacheError } from '../../lib/errors.js'
import { cacheInterceptor, SqliteStore } from '../../lib/index.js'
import { startOrigin, tempDir } from '../helpers/origin.js'

/** `cacheInterceptor(options).cache`: the interceptor's own cache, with createCachedFetch().cache's API. */

describe('cacheInterceptor(options).cache', () => {
  it('counts what the interceptor stored, clears it and closes its store', async (t) => {
    const origin = await startOrigin()
    const { dir, cleanup } = await tempDir()
    const interceptor = cacheInterceptor({ cacheName: join(dir, 'interceptor.sqlite') })
    const agent = new Agent().compose(interceptor)
    t.after(async () => {
      await agent.close()
      await interceptor.cache.close()
      await origin.close()
      await cleanup()
    })
    /** GETs `path` through the composed agent and reads the body to its end (the entry is then stored). */
    const get = async (path: string) => {
      const response = await request(`${origin.url}${path}`, { dispatcher: agent })
      await response.body.text()
      return String(response.headers['cache-status'])
    }

    assert.match(await get('/a'), /fwd=miss/)
    assert.match(await get('/b'), /fwd=miss/)
    assert.equal(await interceptor.cache.count(), 2)
    assert.deepEqual(await interceptor.cache.urls(), [`${origin.url}/a`, `${origin.url}/b`])
    assert.match(await get('/a'), /; hit/)
    assert.equal(origin.count('/a'), 1)
    const stats = interceptor.cache.stats()
    assert.equal(stats.hits, 1)
    assert.equal(stats.misses, 2)
    assert.equal(stats.stored, 2)

    await interceptor.cache.clear()
    assert.equal(await interceptor.cache.count(), 0)
    assert.match(await get('/a'), /fwd=miss/)
    assert.equal(origin.count('/a'), 2)

    await interceptor.cache.close()
    await assert.rejects(
      interceptor.cache.count(),
      (error) => isFetchCacheError(error) && /the store is closed/.test(error.message),
    )
  })

  it('leaves a store passed in open: it stays the caller’s', async (t) => {
    const origin = await startOrigin()
    const { dir, cleanup } = await tempDir()
    const store = new SqliteStore({ path: join(dir, 'mine.sqlite') })
    const interceptor = cacheInterceptor({ backend: store })
    const agent = new Agent().compose(interceptor)
    t.after(async () => {
      await agent.close()
      await store.close()
      await origin.close()
      await cleanup()
    })
    await (await request(`${origin.url}/kept`, { dispatcher: agent })).body.text()
    await interceptor.cache.close()
    assert.equal(await interceptor.cache.count(), 1)
  })
})
