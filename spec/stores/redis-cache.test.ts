import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { type CachedFetch, createCachedFetchWithClock } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { RedisStore } from '../../lib/stores/redis.js'
import { runWorkers, startWorker } from '../helpers/children.js'
import { DISPATCHER, FETCH, readAll } from '../helpers/fronts.js'
import { type Origin, startOrigin } from '../helpers/origin.js'
import { type RawClient, type RedisServer, rawClient, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { storedCount } from '../helpers/store-reads.js'
import type { RedisCacheWorkerConfig, RedisCacheWorkerResult } from './workers/redis-cache-worker.js'

/**
 * The cache on Redis end to end (`backend: 'redis'`): processes sharing it, what it writes to the
 * server, and the inspection API on it.
 */

const WORKER = join(import.meta.dirname, 'workers', 'redis-cache-worker.ts')

describe("a cache on Redis (backend: 'redis')", { skip: redisMissing }, () => {
  let server: RedisServer
  let origin: Origin
  let raw: RawClient
  const caches: CachedFetch[] = []

  const redisOptions = (prefix = uniquePrefix('cache')) => ({
    url: server.url,
    prefix,
    commandTimeout: 10_000,
    connectTimeout: 30_000,
  })

  /** The caches' clock: the wall clock plus what a test moved it by (entries age without a sleep). */
  let offset = 0
  const now = () => Date.now() + offset

  /**
   * Asserts that no key on the server, and no value (an entry's bytes, a URL index's members), holds
   * one of `needles`; answers how many keys it read.
   */
  async function assertKeyspaceHoldsNone(needles: readonly string[]): Promise<number> {
    let scanned = 0
    for await (const keys of raw.scanIterator({ COUNT: 100 })) {
      for (const key of keys) {
        scanned++
        const type = await raw.type(key)
        assert.ok(
          type === 'string' || (type === 'set' && key.includes(':url-index:')),
          `${key} is an entry, the secret or an index`,
        )
        const value = type === 'string' ? ((await raw.get(key)) as Buffer) : Buffer.from((await raw.sMembers(key)).join('\n'))
        for (const needle of needles) {
          assert.equal(String(key).includes(needle), false, `key ${String(key)} holds ${needle}`)
          assert.equal(value.includes(needle), false, `the value of ${String(key)} holds ${needle}`)
        }
      }
    }
    return scanned
  }

  async function cache(options: CacheOptions = {}): Promise<CachedFetch> {
    const cachedFetch = createCachedFetchWithClock(
      { backend: 'redis', redis: redisOptions(), expireAfter: 3600, ...options },
      now,
    )
    caches.push(cachedFetch)
    await capabilities(cachedFetch.cache.store).ready?.ready()
    return cachedFetch
  }

  /** Fetches, reads the body and waits for the write: the response is then in the store. */
  async function stored(cachedFetch: CachedFetch, url: string, init?: RequestInit): Promise<Response> {
    const response = await cachedFetch(url, init)
    await response.text()
    assert.equal(await cacheInfo(response)?.stored, true)
    assert.equal(await cachedFetch.cache.contains({ request: new Request(url, init) }), true)
    return response
  }

  before(async () => {
    server = await startRedis()
    origin = await startOrigin()
    raw = await rawClient(server.url)
  })
  after(async () => {
    for (const cachedFetch of caches) await cachedFetch.cache.close()
    raw.destroy()
    await origin.close()
    await server.stop()
  })

  it('two processes share it: a response stored by one is a hit in the other, for the same credentials only', async () => {
    const prefix = uniquePrefix('processes')
    const plain = `${origin.url}/shared/plain`
    const secured = `${origin.url}/shared/secured`
    const run = async (config: Omit<RedisCacheWorkerConfig, 'redis' | 'prefix'>) => {
      const worker = startWorker(WORKER, [JSON.stringify({ redis: server.url, prefix, ...config })])
      const [result] = (await runWorkers([worker], 60_000)) as RedisCacheWorkerResult[]
      return result as RedisCacheWorkerResult
    }
    const first = await run({
      requests: [{ url: plain }, { url: secured, authorization: 'Bearer alice' }],
      expectStored: 2,
    })
    const second = await run({
      requests: [{ url: plain }, { url: secured, authorization: 'Bearer alice' }, { url: secured, authorization: 'Bearer bob' }],
      expectStored: 3,
    })
    assert.deepEqual(
      first.answers.map((a) => a.fromCache),
      [false, false],
    )
    assert.deepEqual(
      second.answers.map((a) => a.fromCache),
      [true, true, false],
      'the second process hits what the first stored; another token is another entry',
    )
    for (const answer of [...first.answers, ...second.answers]) assert.equal(answer.status, 200)
    assert.equal(origin.count('/shared/plain'), 1)
    assert.equal(origin.count('/shared/secured'), 2)
    assert.deepEqual([...first.reported, ...second.reported], [])
  })

  it('never writes a credential to Redis: the whole keyspace, keys and values, holds none', async () => {
    const tokens = ['Bearer tok-4f1d9c-authorization', 'sid=tok-77aa01-cookie', 'Basic dG9rLXByb3h5LTkwOTA=']
    origin.route('/vary-on-credentials', (_req, res) => {
      res.setHeader('vary', 'Authorization, Cookie, Proxy-Authorization')
      res.setHeader('cache-control', 'max-age=3600')
      res.end('varied')
    })
    const cachedFetch = await cache({ matchHeaders: true })
    const headers = {
      authorization: tokens[0] as string,
      cookie: tokens[1] as string,
      'proxy-authorization': tokens[2] as string,
    }
    for (const path of ['/credentials/plain', '/vary-on-credentials', '/credentials/plain?again=1']) {
      await stored(cachedFetch, `${origin.url}${path}`, { headers })
    }
    assert.ok((await cachedFetch.cache.count()) >= 3)

    const needles = [...tokens, 'tok-4f1d9c-authorization', 'tok-77aa01-cookie', 'dG9rLXByb3h5LTkwOTA']
    const scanned = await assertKeyspaceHoldsNone(needles)
    assert.ok(scanned >= 4, `scanned ${scanned} keys`)
  })

  it('with the default credential set, API keys (headers, query) and a Set-Cookie reach no Redis key or value in clear', async () => {
    const needles = ['xak-9d8c7b6a55', 'qak-3e4f5a6b77', 'qat-1a2b3c4d99', 'sck-7f6e5d4c33'] as const
    origin.route('/api/profile', (_req, res) => {
      res.setHeader('cache-control', 'max-age=3600')
      res.setHeader('set-cookie', `session=${needles[3]}; HttpOnly`)
      res.end('profile')
    })
    const cachedFetch = await cache({ cacheControl: true })
    const url = `${origin.url}/api/profile?api_key=${needles[1]}&access_token=${needles[2]}`
    const init = { headers: { 'x-api-key': needles[0] } }
    const first = await cachedFetch(url, init)
    await first.text()
    assert.equal(await cacheInfo(first)?.stored, true, 'the write landed')
    const hit = await cachedFetch(url, init)
    assert.equal(cacheInfo(hit)?.fromCache, true)
    assert.equal(hit.headers.get('set-cookie'), `session=${needles[3]}; HttpOnly`, 'replayed in clear, stored sealed')
    const scanned = await assertKeyspaceHoldsNone(needles)
    assert.ok(scanned >= 1, `scanned ${scanned} keys`)
  })

  it('an entry written through one front is served by the other (fetch, undici.request)', async () => {
    const store = new RedisStore(redisOptions())
    await store.ready()
    const fetchSide = FETCH.open({ backend: store, expireAfter: 3600 })
    const undiciSide = DISPATCHER.open({ backend: store, expireAfter: 3600 })
    try {
      for (const [writer, reader, path] of [
        [undiciSide, fetchSide, '/fronts/a'],
        [fetchSide, undiciSide, '/fronts/b'],
      ] as const) {
        const stored = await storedCount(store)
        const first = await writer.get(`${origin.url}${path}`)
        assert.equal(await readAll(first.body), `hello ${path}`)
        await writer.settled()
        assert.equal(await storedCount(store), stored + 1)
        const second = await reader.get(`${origin.url}${path}`)
        assert.equal(await readAll(second.body), `hello ${path}`)
        assert.equal(second.hit, true, `${reader.name} serves what ${writer.name} stored`)
        assert.equal(origin.count(path), 1)
      }
    } finally {
      await fetchSide.close()
      await undiciSide.close()
      await store.close()
    }
  })

  it('a key of another type under the prefix is listed as invalid: listing, size and delete({ invalid }) still work', async () => {
    const prefix = uniquePrefix('foreign')
    const cachedFetch = await cache({ redis: redisOptions(prefix) })
    await stored(cachedFetch, `${origin.url}/foreign/a`)
    await raw.hSet(`${prefix}stray-hash`, 'field', 'value')
    const { cache: inspect } = cachedFetch
    assert.equal(await inspect.count(), 1)
    assert.deepEqual(await inspect.urls(), [`${origin.url}/foreign/a`])
    assert.ok((await inspect.size()) > 0)
    const invalid: string[] = []
    for await (const item of inspect.filter({ invalid: true })) if (item.invalid) invalid.push(item.key)
    assert.deepEqual(invalid, ['stray-hash'])
    assert.equal(await inspect.delete({ invalid: true }), 1)
    assert.equal(await raw.exists(`${prefix}stray-hash`), 0)
    assert.equal(await inspect.count(), 1)
  })

  it('the inspection API works on it: count, urls, contains, responses, size, delete, resetExpiration, clear', async () => {
    const cachedFetch = await cache()
    const urls = ['/inspect/a', '/inspect/b', '/inspect/b?x=1'].map((path) => `${origin.url}${path}`)
    for (const url of urls) await stored(cachedFetch, url)
    const { cache: inspect } = cachedFetch
    assert.equal(await inspect.count(), 3)
    assert.deepEqual(await inspect.urls(), [...urls].sort())
    assert.equal(await inspect.contains({ url: urls[0] as string }), true)
    assert.ok((await inspect.size()) > 0)
    const listed: string[] = []
    for await (const response of inspect.responses()) listed.push(response.url)
    assert.deepEqual(listed.sort(), [...urls].sort())

    assert.equal(await inspect.delete({ urls: [urls[0] as string] }), 1)
    assert.equal(await inspect.contains({ url: urls[0] as string }), false)
    assert.equal(await inspect.resetExpiration('1s'), 2)
    offset += 1100
    assert.equal(await inspect.delete({ expired: true }), 2)
    assert.equal(await inspect.count(), 0)

    await stored(cachedFetch, urls[1] as string)
    await inspect.clear()
    assert.equal(await inspect.count(), 0)
    const again = await cachedFetch(urls[1] as string)
    await again.text()
    assert.equal(cacheInfo(again)?.fromCache, false)
  })
})
