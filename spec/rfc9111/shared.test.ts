import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { MemoryStore } from '../../lib/stores/memory.js'
import { FRONTS, type FrontInit } from '../helpers/fronts.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import { get, type Rig, rig } from './harness.js'

/**
 * RFC 9111 as a shared cache (`cacheControl: 'shared'`), one test per rule, each beside what the
 * private cache (`cacheControl: true`) does with the same answer. Run on the memory store and on
 * Redis (the store a shared cache is for), against a real redis-server when there is one.
 */

interface Backend {
  name: string
  skip: string | undefined
  /** The store options of a cache; caches made with the same `share` see the same entries. */
  options(share?: string): CacheOptions
  setUp(): Promise<void>
  tearDown(): Promise<void>
}

const memory: Backend = (() => {
  const stores = new Map<string, MemoryStore>()
  return {
    name: 'memory',
    skip: undefined,
    options: (share) => {
      if (share === undefined) return { backend: 'memory' }
      if (!stores.has(share)) stores.set(share, new MemoryStore())
      return { backend: stores.get(share) as MemoryStore }
    },
    setUp: async () => {},
    tearDown: async () => {
      for (const store of stores.values()) store.close()
    },
  }
})()

const redis: Backend = (() => {
  let server: RedisServer | undefined
  const prefixes = new Map<string, string>()
  return {
    name: 'redis',
    skip: redisMissing,
    options: (share) => {
      let prefix = share === undefined ? uniquePrefix('shared') : prefixes.get(share)
      if (prefix === undefined) {
        prefix = uniquePrefix('shared')
        prefixes.set(share as string, prefix)
      }
      const url = (server as RedisServer).url
      return { backend: 'redis', redis: { url, prefix, commandTimeout: 10_000, connectTimeout: 30_000 } }
    },
    setUp: async () => {
      server = await startRedis()
    },
    tearDown: async () => {
      await server?.stop()
    },
  }
})()

for (const front of FRONTS)
  for (const backend of [memory, redis]) {
    describe(`RFC 9111 shared cache (cacheControl: 'shared') on the ${backend.name} store [${front.name}]`, {
      skip: backend.skip,
    }, () => {
      const rigs: Rig[] = []
      let n = 0
      const path = () => `/shared/${++n}`

      /** A cache in front of its own origin; `share` names a store several caches use. */
      async function cache(cacheControl: true | 'shared', extra: CacheOptions = {}, share?: string): Promise<Rig> {
        const r = await rig(front, { cacheControl, ...backend.options(share), ...extra })
        rigs.push(r)
        await capabilities(r.front.cache.store).ready?.ready()
        return r
      }

      /** How many requests reached the origin for two identical GETs (1: the second was reused). */
      async function twice(r: Rig, p: string, init?: FrontInit): Promise<number> {
        await get(r, p, init)
        const second = await get(r, p, init)
        assert.equal(second.response.fromCache, r.origin.count(p) === 1)
        return r.origin.count(p)
      }

      before(() => backend.setUp())
      after(async () => {
        for (const r of rigs) await r.close()
        await backend.tearDown()
      })

      it('§5.2.2.10 s-maxage: beats max-age (max-age=0, s-maxage=3600 is reused; a private cache revalidates)', async () => {
        const answer = { headers: { 'cache-control': 'max-age=0, s-maxage=3600' } }
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        shared.answer(p, answer)
        own.answer(p, answer)
        assert.equal(await twice(shared, p), 1)
        assert.equal(await twice(own, p), 2)
      })

      it('§5.2.2.10 s-maxage: a shorter s-maxage makes the response stale sooner than max-age', async () => {
        const answer = { headers: { 'cache-control': 'max-age=3600, s-maxage=1', age: '5' } }
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        shared.answer(p, answer)
        own.answer(p, answer)
        assert.equal(await twice(shared, p), 2)
        assert.equal(await twice(own, p), 1)
      })

      it('§4.2.1 s-maxage: beats Expires', async () => {
        const shared = await cache('shared')
        const p = path()
        shared.answer(p, { headers: { 'cache-control': 's-maxage=3600', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' } })
        assert.equal(await twice(shared, p), 1)
      })

      it('§3 s-maxage: makes a final status that is not heuristically cacheable storable (403)', async () => {
        const answer = { status: 403, headers: { 'cache-control': 's-maxage=3600' } }
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        shared.answer(p, answer)
        own.answer(p, answer)
        assert.equal(await twice(shared, p), 1)
        assert.equal(await twice(own, p), 2)
      })

      it('§5.2.2.10 s-maxage: implies proxy-revalidate, so a stale response is not served when the origin fails', async () => {
        const answers = [{ headers: { 'cache-control': 's-maxage=1, max-age=1', age: '5', etag: '"s"' } }, { status: 503 }]
        const shared = await cache('shared', { staleIfError: true })
        const own = await cache(true, { staleIfError: true })
        const p = path()
        shared.answer(p, ...answers)
        own.answer(p, ...answers)
        await get(shared, p)
        await get(own, p)
        const sharedSecond = await get(shared, p)
        assert.equal(sharedSecond.response.status, 503)
        assert.equal(shared.origin.requests.at(-1)?.headers['if-none-match'], '"s"', 'it revalidated')
        assert.equal((await get(own, p)).response.status, 200, 'a private cache ignores s-maxage and serves stale')
      })

      it('§5.2.2.8 proxy-revalidate: a stale response is revalidated, never served stale on error', async () => {
        const shared = await cache('shared', { staleIfError: true, staleWhileRevalidate: true })
        const p = path()
        shared.answer(p, { headers: { 'cache-control': 'max-age=1, proxy-revalidate', age: '5', etag: '"p"' } }, { status: 503 })
        await get(shared, p)
        assert.equal((await get(shared, p)).response.status, 503)
        assert.equal(shared.origin.requests.at(-1)?.headers['if-none-match'], '"p"')
      })

      it("§4.3.2 a caller's conditional request is answered from the stored response (304 when it matches); a private cache passes it on", async () => {
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        for (const r of [shared, own]) r.answer(p, { headers: { 'cache-control': 'max-age=3600', etag: '"c"' }, body: 'full' })
        for (const r of [shared, own]) await get(r, p)
        const matching = await get(shared, p, { headers: { 'if-none-match': '"c"' } })
        assert.equal(matching.response.status, 304)
        assert.equal(matching.response.header('etag'), '"c"')
        const other = await get(shared, p, { headers: { 'if-none-match': '"other"' } })
        assert.equal(other.response.status, 200)
        assert.equal(other.text, 'full')
        assert.equal(shared.origin.count(p), 1, 'neither reached the origin')
        await get(own, p, { headers: { 'if-none-match': '"c"' } })
        assert.equal(own.origin.count(p), 2)
      })

      it("§4.3.2 a caller's conditional request that the new 200 of a revalidation satisfies is answered 304", async () => {
        const shared = await cache('shared')
        const p = path()
        shared.answer(
          p,
          { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"old"' }, body: 'body-old' },
          { headers: { 'cache-control': 'max-age=3600', etag: '"new"' }, body: 'body-new' },
        )
        await get(shared, p)
        const conditional = await get(shared, p, { headers: { 'if-none-match': '"new"' } })
        assert.equal(conditional.response.status, 304)
        assert.equal(conditional.response.header('etag'), '"new"')
        assert.equal(
          shared.origin.requests.at(-1)?.headers['if-none-match'],
          '"old"',
          "revalidated with the cache's own validator",
        )
        const plain = await get(shared, p)
        assert.equal(plain.text, 'body-new')
        assert.equal(plain.response.hit, true)
        // A condition the new response does not satisfy gets the 200.
        const other = await get(shared, p, { headers: { 'if-none-match': '"old"' } })
        assert.equal(other.response.status, 200)
        assert.equal(other.text, 'body-new')
        assert.equal(shared.origin.count(p), 2)
      })

      it('§5.2.2.7 private: a shared cache does not store it; a private cache does', async () => {
        const answer = { headers: { 'cache-control': 'private, max-age=3600' } }
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        shared.answer(p, answer)
        own.answer(p, answer)
        assert.equal(await twice(shared, p), 2)
        assert.equal(await twice(own, p), 1)
        assert.equal(await shared.front.cache.count(), 0)
      })

      it('§5.2.2.7 private="field": not stored by a shared cache either (it may keep the rest; we keep none)', async () => {
        const shared = await cache('shared')
        const p = path()
        shared.answer(p, { headers: { 'cache-control': 'private="x-user", max-age=3600', 'x-user': 'alice' } })
        assert.equal(await twice(shared, p), 2)
      })

      const authorized = { headers: { authorization: 'Bearer token-of-alice' } }

      it('§3.5 Authorization: a response to an authorized request is not stored by a shared cache without permission', async () => {
        const answer = { headers: { 'cache-control': 'max-age=3600' } }
        const shared = await cache('shared')
        const own = await cache(true)
        const p = path()
        shared.answer(p, answer)
        own.answer(p, answer)
        assert.equal(await twice(shared, p, authorized), 2)
        assert.equal(await twice(own, p, authorized), 1)
      })

      for (const directive of ['public', 's-maxage=3600', 'must-revalidate']) {
        it(`§3.5 Authorization: stored and reused when the response says ${directive}`, async () => {
          const shared = await cache('shared')
          const p = path()
          shared.answer(p, { headers: { 'cache-control': `max-age=3600, ${directive}` } })
          assert.equal(await twice(shared, p, authorized), 1)
        })
      }

      it('§3.5 Authorization: a response a private cache stored in the same store is not reused by a shared cache', async () => {
        const share = `authorized-${n}`
        const own = await cache(true, {}, share)
        const shared = await cache('shared', {}, share)
        const p = path()
        own.answer(p, { headers: { 'cache-control': 'max-age=3600' } })
        await get(own, p, authorized)
        assert.equal((await get(own, p, authorized)).response.fromCache, true, 'stored, and reused by the private cache')
        // Same store, same request (URL and credentials): the shared cache finds the entry and must not use it.
        const response = await shared.front.get(own.url(p), authorized)
        await response.text()
        assert.equal(response.fromCache, false)
        assert.equal(own.origin.count(p), 2)
      })

      it('§3 an unauthorized request: a response without private is stored and shared as usual', async () => {
        const shared = await cache('shared')
        const p = path()
        shared.answer(p, { headers: { 'cache-control': 'max-age=3600' } })
        assert.equal(await twice(shared, p), 1)
      })
    })
  }
