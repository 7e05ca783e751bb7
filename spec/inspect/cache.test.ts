import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { Request as UndiciRequest } from 'undici'
import { type CacheEntry, ENTRY_VERSION } from '../../lib/entry/entry.js'
import { InvalidOptionTypeError, InvalidOptionValueError, StoreError, StoreUnavailableError } from '../../lib/errors.js'
import type { Cache } from '../../lib/inspect/cache.js'
import { exportHar } from '../../lib/inspect/har.js'
import type { InvalidEntry, StoredResponse } from '../../lib/inspect/query.js'
import { getCache, installCache, uninstallCache } from '../../lib/install/patch.js'
import { type CachedFetch, createCachedFetch, createCachedFetchWithClock } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { NEVER_EXPIRE } from '../../lib/options/expire-after.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { MemoryStore } from '../../lib/stores/memory.js'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { makeEntry } from '../helpers/entries.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/** How each store is set up, and how a row of it is made unreadable. */
interface Backend {
  name: string
  options(dir: string): CacheOptions
  corrupt(cache: Cache, dir: string, key: string): Promise<void>
}

const BACKENDS: Backend[] = [
  {
    name: 'memory',
    options: () => ({ backend: 'memory' }),
    // A memory store holds objects, so the one way a row goes bad is an entry of another version.
    async corrupt(cache, _dir, key) {
      const entry = await cache.store.get(key)
      assert.ok(entry)
      await cache.store.set(key, { ...entry, v: ENTRY_VERSION + 1 } as unknown as CacheEntry)
    },
  },
  {
    name: 'sqlite',
    options: (dir) => ({ cacheName: join(dir, 'c') }),
    async corrupt(cache, dir, key) {
      await (cache.store as SqliteStore).flush() // the row is committed before it is spoiled
      const db = new Database(join(dir, 'c.sqlite'))
      try {
        db.pragma('busy_timeout = 5000')
        // The key column holds a hex key's bytes (stores/sqlite-schema.ts keyColumn).
        assert.equal(db.prepare("UPDATE entries SET meta = '{garbage' WHERE key = unhex(?)").run(key).changes, 1)
      } finally {
        db.close()
      }
    },
  },
]

const PAST = () => new Date(Date.now() - 60_000)

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

function byUrl(items: (StoredResponse | InvalidEntry)[]): string[] {
  return items.map((item) => (item.invalid ? `invalid:${item.key}` : item.url)).sort()
}

for (const backend of BACKENDS) {
  describe(`Cache inspection on the ${backend.name} store`, () => {
    let origin: Origin
    let dir: string
    let cleanup: () => Promise<void>
    let cachedFetch: CachedFetch
    let cache: Cache
    /** The cache's clock: the wall clock plus what a test moved it by (entries age without a sleep). */
    let offset = 0
    const now = () => Date.now() + offset

    /** Fetches `path` from the origin through the cache and reads the body (which stores it). */
    const get = async (path: string, init?: Parameters<CachedFetch>[1]): Promise<{ response: Response; body: string }> => {
      const response = await cachedFetch(origin.url + path, init)
      return { response, body: await response.text() }
    }
    const open = (options: CacheOptions = {}): void => {
      cachedFetch = createCachedFetchWithClock({ ...backend.options(dir), ...options }, now)
      cache = cachedFetch.cache
    }

    beforeEach(async () => {
      offset = 0
      origin = await startOrigin({
        '/vary': (req, res) => {
          res.setHeader('vary', 'x-lang')
          res.end(`lang ${req.headers['x-lang'] ?? 'none'}`)
        },
        '/echo': (req, res) => void res.end(`x-a ${req.headers['x-a'] ?? 'none'}`),
      })
      ;({ dir, cleanup } = await tempDir('fetch-http-cache-inspection-'))
      open()
    })
    afterEach(async () => {
      await cache.close()
      await origin.close()
      await cleanup()
    })

    describe('responses()', () => {
      it('lists every stored response with the metadata it was stored with', async () => {
        const before = Date.now()
        const a = await get('/a?y=2&x=1')
        const b = await get('/b', { cacheOptions: { expireAfter: '1h' } })
        const after = Date.now()
        const keyA = cacheInfo((await cachedFetch(`${origin.url}/a?y=2&x=1`)) as Response)?.cacheKey

        const listed = await collect(cache.responses())
        assert.equal(listed.length, 2)
        const [first, second] = listed.sort((p, q) => p.url.localeCompare(q.url))
        assert.ok(first && second)
        assert.equal(first.invalid, false)
        assert.equal(first.key, keyA)
        assert.equal(first.url, `${origin.url}/a?y=2&x=1`)
        assert.equal(first.responseUrl, `${origin.url}/a?y=2&x=1`)
        assert.equal(first.method, 'GET')
        assert.equal(first.status, 200)
        assert.equal(first.statusText, 'OK')
        assert.equal(first.headers.get('content-type'), 'text/plain')
        assert.equal(first.size, Buffer.byteLength(a.body))
        assert.equal(Buffer.from((await first.body()) ?? []).toString(), a.body)
        assert.ok(first.createdAt.getTime() >= before && first.createdAt.getTime() <= after)
        assert.equal(first.expires, undefined)
        assert.equal(first.isExpired, false)

        assert.equal(second.url, `${origin.url}/b`)
        assert.equal(second.size, Buffer.byteLength(b.body))
        assert.ok(second.expires)
        assert.equal(second.expires.getTime(), second.createdAt.getTime() + 3_600_000)
        assert.equal(second.isExpired, false)
      })

      it('leaves Vary markers out: two variants of one URL are two responses of one URL', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        await get('/vary', { headers: { 'x-lang': 'fr' } })
        const listed = await collect(cache.responses())
        const bodies = await Promise.all(listed.map(async (r) => Buffer.from((await r.body()) ?? []).toString()))
        assert.deepEqual(bodies.sort(), ['lang en', 'lang fr'])
        assert.equal(await cache.count(), 2)
        assert.deepEqual(await cache.urls(), [`${origin.url}/vary`])
        // The marker row is there all the same: the store holds three rows.
        assert.equal((await collect(toAsync(cache.store.records()))).length, 3)
      })
    })

    describe('filter() and urls()', () => {
      it('separate valid from expired responses, and narrow by age with olderThan', async () => {
        await get('/fresh')
        await get('/stale', { cacheOptions: { expireAfter: PAST() } })
        const fresh = `${origin.url}/fresh`
        const stale = `${origin.url}/stale`

        assert.deepEqual(byUrl(await collect(cache.filter())), [fresh, stale])
        assert.deepEqual(byUrl(await collect(cache.filter({ valid: false }))), [stale])
        assert.deepEqual(byUrl(await collect(cache.filter({ expired: false }))), [fresh])
        assert.deepEqual(byUrl(await collect(cache.filter({ valid: false, expired: false }))), [])
        const expired = await collect(cache.filter({ valid: false }))
        assert.equal(expired[0]?.invalid === false && expired[0].isExpired, true)

        assert.deepEqual(byUrl(await collect(cache.filter({ olderThan: '1h' }))), [])
        assert.deepEqual(byUrl(await collect(cache.filter({ olderThan: new Date(Date.now() + 1000) }))), [fresh, stale])
        assert.deepEqual(byUrl(await collect(cache.filter({ olderThan: 0 }))), [fresh, stale])

        assert.deepEqual(await cache.urls(), [fresh, stale])
        assert.deepEqual(await cache.urls({ expired: false }), [fresh])
        assert.deepEqual(await cache.urls({ valid: false }), [stale])
        assert.deepEqual(byUrl(await collect(cache.responses({ valid: false }))), [stale])
      })

      it('list expired responses that are older than a cutoff once they have aged', async () => {
        await get('/short', { cacheOptions: { expireAfter: 1 } })
        assert.deepEqual(await cache.urls({ valid: false }), [])
        offset += 1100
        assert.deepEqual(await cache.urls({ valid: false }), [`${origin.url}/short`])
        assert.deepEqual(await cache.urls({ olderThan: 1 }), [`${origin.url}/short`])
      })

      it('check their options when called, naming the option', () => {
        assert.throws(() => cache.filter({ valdi: true } as never), { name: 'InvalidOptionValueError', option: 'valdi' })
        assert.throws(() => cache.responses({ expired: 'yes' } as never), { name: 'InvalidOptionTypeError', option: 'expired' })
        assert.throws(
          () => cache.filter({ olderThan: 'soon' }),
          (error: unknown) => {
            assert.ok(error instanceof InvalidOptionValueError)
            assert.equal(error.option, 'olderThan')
            assert.equal(error.value, 'soon')
            return true
          },
        )
        assert.throws(() => cache.filter({ olderThan: NEVER_EXPIRE }), InvalidOptionValueError)
        assert.throws(() => cache.filter('all' as never), InvalidOptionTypeError)
      })
    })

    describe('contains()', () => {
      it('finds a response by key, by URL and by bodyless Request, and nothing else', async () => {
        await get('/c?b=2&a=1')
        const key = (await collect(cache.responses()))[0]?.key
        assert.ok(key)
        assert.equal(await cache.contains({ key }), true)
        assert.equal(await cache.contains({ key: 'f'.repeat(64) }), false)
        // Query order and the fragment do not matter, as for the key.
        assert.equal(await cache.contains({ url: `${origin.url}/c?a=1&b=2#top` }), true)
        assert.equal(await cache.contains({ url: new URL(`${origin.url}/c?b=2&a=1`) }), true)
        assert.equal(await cache.contains({ url: `${origin.url}/c?b=2&a=1`, method: 'head' }), false)
        assert.equal(await cache.contains({ url: `${origin.url}/c` }), false)
        assert.equal(await cache.contains({ request: new Request(`${origin.url}/c?b=2&a=1`) }), true)
        assert.equal(await cache.contains({ request: new Request(`${origin.url}/c?b=2&a=1`, { method: 'DELETE' }) }), false)
        const fromUndici = new UndiciRequest(`${origin.url}/c?b=2&a=1`)
        assert.equal(await cache.contains({ request: fromUndici as unknown as Request }), true, "undici's own Request")
      })

      it('follows Vary to the variant the request would get', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        const url = `${origin.url}/vary`
        assert.equal(await cache.contains({ request: new Request(url, { headers: { 'x-lang': 'en' } }) }), true)
        assert.equal(await cache.contains({ request: new Request(url, { headers: { 'x-lang': 'de' } }) }), false)
        assert.equal(await cache.contains({ url }), false, 'a request without x-lang is another variant')
      })

      it('does not find a variant older than its Vary marker, as a lookup does not serve it', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        const url = `${origin.url}/vary`
        let marker: CacheEntry | undefined
        for await (const { entry } of cache.store.records()) if (entry?.kind === 'vary') marker = entry
        assert.ok(marker)
        // A marker written after the variant (a new Vary, or one stored again after an invalidation).
        await cache.store.set(marker.key, { ...marker, createdAt: marker.createdAt + 60_000 })
        await cache.flush()
        const request = () => new Request(url, { headers: { 'x-lang': 'en' } })
        assert.equal(await cache.contains({ request: request() }), false)
        const response = await cachedFetch(request())
        await response.text()
        assert.equal(cacheInfo(response)?.fromCache, false, 'the lookup agrees')
      })

      it('keeps credentials partitioned: another token is not contained', async () => {
        await get('/private', { headers: { authorization: 'Bearer one' } })
        const url = `${origin.url}/private`
        assert.equal(await cache.contains({ request: new Request(url, { headers: { authorization: 'Bearer one' } }) }), true)
        assert.equal(await cache.contains({ request: new Request(url, { headers: { authorization: 'Bearer two' } }) }), false)
        assert.equal(await cache.contains({ url }), false)
      })

      it('refuses a Request with a body, and a query that is not one of the three forms', async () => {
        const request = new Request(`${origin.url}/p`, { method: 'POST', body: 'x' })
        await assert.rejects(cache.contains({ request }), { name: 'InvalidOptionValueError', option: 'request' })
        assert.equal(request.bodyUsed, false)
        await assert.rejects(cache.contains({} as never), { name: 'InvalidOptionValueError', option: 'query' })
        await assert.rejects(cache.contains({ key: 'k', url: 'http://x/' } as never), { name: 'InvalidOptionValueError' })
        await assert.rejects(cache.contains({ url: '/relative' }), { name: 'InvalidOptionValueError', option: 'url' })
        await assert.rejects(cache.contains({ key: 1 } as never), { name: 'InvalidOptionTypeError', option: 'key' })
        await assert.rejects(cache.contains({ request: 'http://x/' } as never), {
          name: 'InvalidOptionTypeError',
          option: 'request',
        })
      })
    })

    describe('delete()', () => {
      it('deletes by key, by URL, expired and older-than, returns the count, and the origin is asked again', async () => {
        await get('/k')
        await get('/u?b=2&a=1')
        await get('/e', { cacheOptions: { expireAfter: PAST() } })
        await get('/keep')
        const [keyK] = (await collect(cache.responses())).filter((r) => r.url.endsWith('/k')).map((r) => r.key)
        assert.ok(keyK)

        assert.equal(await cache.delete({ keys: [keyK, 'not-a-key'] }), 1)
        assert.equal(await cache.delete({ urls: [`${origin.url}/u?a=1&b=2`] }), 1, 'URLs compare normalized')
        assert.equal(await cache.delete({ expired: true }), 1)
        assert.deepEqual(await cache.urls(), [`${origin.url}/keep`])
        assert.equal(await cache.delete({ olderThan: '1h' }), 0)
        assert.equal(await cache.delete({}), 0)

        const before = origin.count()
        await get('/k')
        await get('/keep')
        assert.equal(origin.count(), before + 1, '/k went back to the origin, /keep was a hit')
        assert.equal(await cache.delete({ olderThan: new Date(Date.now() + 1000) }), 2)
        assert.equal(await cache.count(), 0)
      })

      it('deletes URLs whose query is not UTF-8 beside a credential or ignored parameter, each on its own', async () => {
        cachedFetch.settings.ignoredParameters = ['trace']
        const paths = ['/s?api_key=K&q=Jos%E9', '/s?api_key=K&q=Jos%E8', '/t?trace=1&q=caf%E9', '/t?trace=1&q=caf%E8']
        for (const path of paths) await get(path)
        assert.equal((await cache.urls()).length, 4, 'four requests, four stored URLs')
        assert.ok((await cache.urls()).some((url) => url.endsWith('/t?trace=REDACTED&q=caf%E9')))
        assert.equal(await cache.delete({ urls: [origin.url + paths[0], origin.url + paths[2]] }), 2)
        assert.deepEqual(
          (await cache.urls()).map((url) => url.replace(/hmac-sha256%3A[0-9a-f]+/, 'HASH')),
          [`${origin.url}/s?api_key=HASH&q=Jos%E8`, `${origin.url}/t?trace=REDACTED&q=caf%E8`],
        )
        assert.equal(await cache.delete({ urls: paths.map((path) => origin.url + path) }), 2)
        assert.equal(await cache.count(), 0)
      })

      it('deletes the groups as a union in one call', async () => {
        await get('/one')
        await get('/two', { cacheOptions: { expireAfter: PAST() } })
        await get('/three')
        assert.equal(await cache.delete({ expired: true, urls: [`${origin.url}/one`] }), 2)
        assert.deepEqual(await cache.urls(), [`${origin.url}/three`])
      })

      it('deletes every variant of a URL and its Vary marker', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        await get('/vary', { headers: { 'x-lang': 'fr' } })
        await get('/other')
        assert.equal(await cache.delete({ urls: [`${origin.url}/vary`] }), 2)
        const rows = await collect(toAsync(cache.store.records()))
        assert.deepEqual(
          rows.map((r) => r.entry?.url),
          [`${origin.url}/other`],
        )
      })

      it('drops a Vary marker once its last variant is deleted', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        await get('/vary', { headers: { 'x-lang': 'fr' } })
        const keys = (await collect(cache.responses())).map((r) => r.key)
        assert.equal(await cache.delete({ keys: keys.slice(0, 1) }), 1)
        assert.equal((await collect(toAsync(cache.store.records()))).length, 2, 'the marker stays for the other variant')
        assert.equal(await cache.delete({ keys: keys.slice(1) }), 1)
        assert.equal((await collect(toAsync(cache.store.records()))).length, 0)
      })

      it('checks its options, naming the option', async () => {
        await assert.rejects(cache.delete({ expird: true } as never), { name: 'InvalidOptionValueError', option: 'expird' })
        await assert.rejects(cache.delete({ keys: 'k' } as never), { name: 'InvalidOptionTypeError', option: 'keys' })
        await assert.rejects(cache.delete({ urls: ['nope'] }), { name: 'InvalidOptionValueError', option: 'urls[0]' })
        await assert.rejects(cache.delete({ olderThan: -2 }), { name: 'InvalidOptionValueError', option: 'olderThan' })
      })
    })

    describe('unreadable rows', () => {
      it('are invalid: listed only when asked, not counted, a miss, and removed by delete({ invalid: true })', async () => {
        await get('/good')
        await get('/bad')
        const bad = (await collect(cache.responses())).find((r) => r.url.endsWith('/bad'))
        assert.ok(bad)
        await backend.corrupt(cache, dir, bad.key)

        assert.deepEqual(byUrl(await collect(cache.responses())), [`${origin.url}/good`])
        assert.deepEqual(byUrl(await collect(cache.filter({ invalid: true }))), [`${origin.url}/good`, `invalid:${bad.key}`])
        assert.deepEqual(byUrl(await collect(cache.filter({ valid: false, expired: false, invalid: true }))), [
          `invalid:${bad.key}`,
        ])
        assert.equal(await cache.count(), 1)
        assert.deepEqual(await cache.urls({ invalid: true }), [`${origin.url}/good`])
        assert.equal(await cache.resetExpiration('1h'), 1, 'unreadable rows are left alone')
        assert.equal(await cache.recreateKeys(), 0)

        assert.equal(await cache.delete({ invalid: true }), 1)
        assert.deepEqual(byUrl(await collect(cache.filter({ invalid: true }))), [`${origin.url}/good`])
        const before = origin.count('/bad')
        await get('/bad')
        assert.equal(origin.count('/bad'), before + 1)
      })
    })

    describe('resetExpiration()', () => {
      it('re-stamps every response from now: expired ones become fresh hits', async () => {
        await get('/x', { cacheOptions: { expireAfter: PAST() } })
        await get('/y')
        const before = Date.now()
        assert.equal(await cache.resetExpiration('1h'), 2)
        const after = Date.now()
        for (const response of await collect(cache.responses())) {
          assert.equal(response.isExpired, false)
          const expires = response.expires?.getTime() ?? 0
          assert.ok(expires >= before + 3_600_000 && expires <= after + 3_600_000)
        }
        const count = origin.count()
        const { response } = await get('/x')
        assert.equal(cacheInfo(response)?.fromCache, true)
        assert.equal(origin.count(), count)
      })

      it('takes every expireAfter form: a past Date expires all, NEVER_EXPIRE clears expiry', async () => {
        await get('/x')
        await cache.resetExpiration(PAST())
        assert.deepEqual(await cache.urls({ valid: false }), [`${origin.url}/x`])
        await cache.resetExpiration(NEVER_EXPIRE)
        assert.equal((await collect(cache.responses()))[0]?.expires, undefined)
        await assert.rejects(cache.resetExpiration('later'), { name: 'InvalidOptionValueError', option: 'expireAfter' })
      })
    })

    describe('recreateKeys()', () => {
      it('re-keys after matchHeaders changes, so the request with that header hits', async () => {
        await get('/echo', { headers: { 'x-a': '1' } })
        const request = () => new Request(`${origin.url}/echo`, { headers: { 'x-a': '1' } })
        cachedFetch.settings.matchHeaders = ['x-a']
        assert.equal(await cache.contains({ request: request() }), false, 'the old key no longer matches')

        assert.equal(await cache.recreateKeys(), 1)
        assert.equal(await cache.contains({ request: request() }), true)
        assert.equal(await cache.count(), 1)
        const count = origin.count('/echo')
        const hit = await get('/echo', { headers: { 'x-a': '1' } })
        assert.equal(cacheInfo(hit.response)?.fromCache, true)
        assert.equal(hit.body, 'x-a 1')
        assert.equal(origin.count('/echo'), count)
        const other = await get('/echo', { headers: { 'x-a': '2' } })
        assert.equal(other.body, 'x-a 2')
        assert.equal(origin.count('/echo'), count + 1)
        assert.equal(await cache.recreateKeys(), 0, 'nothing moves when the rules did not change')
      })

      it('keeps credentials partitioned: the same token still hits, another one does not', async () => {
        await get('/echo', { headers: { 'x-a': '1', authorization: 'Bearer one' } })
        cachedFetch.settings.matchHeaders = ['x-a']
        assert.equal(await cache.recreateKeys(), 1)
        const count = origin.count('/echo')
        const same = await get('/echo', { headers: { 'x-a': '1', authorization: 'Bearer one' } })
        assert.equal(cacheInfo(same.response)?.fromCache, true)
        assert.equal(origin.count('/echo'), count)
        const other = await get('/echo', { headers: { 'x-a': '1', authorization: 'Bearer two' } })
        assert.equal(cacheInfo(other.response)?.fromCache, false)
        assert.equal(origin.count('/echo'), count + 1)
      })

      it('moves Vary variants and gives each new base key its marker', async () => {
        await get('/vary', { headers: { 'x-lang': 'en' } })
        await get('/vary', { headers: { 'x-lang': 'fr' } })
        cachedFetch.settings.matchHeaders = true // x-lang now splits the base key too
        assert.equal(await cache.recreateKeys(), 2)
        const count = origin.count('/vary')
        for (const lang of ['en', 'fr']) {
          const { response, body } = await get('/vary', { headers: { 'x-lang': lang } })
          assert.equal(cacheInfo(response)?.fromCache, true, lang)
          assert.equal(body, `lang ${lang}`)
        }
        assert.equal(origin.count('/vary'), count)
        assert.equal((await collect(toAsync(cache.store.records()))).length, 4, 'two variants, two markers')
      })

      it('keeps the most recently stored response when two collapse onto one key', async () => {
        cachedFetch.settings.matchHeaders = ['x-a']
        await get('/echo', { headers: { 'x-a': '1' } })
        offset += 5 // stored later
        await get('/echo', { headers: { 'x-a': '2' } })
        cachedFetch.settings.matchHeaders = false
        assert.equal(await cache.recreateKeys(), 1, 'the newer one moves, the older one is dropped')
        assert.equal(await cache.count(), 1)
        const count = origin.count('/echo')
        const { response, body } = await get('/echo')
        assert.equal(cacheInfo(response)?.fromCache, true)
        assert.equal(body, 'x-a 2')
        assert.equal(origin.count('/echo'), count)
      })

      it('moves nothing when the rules did not change, for queries that are not UTF-8 beside credentials', async () => {
        cachedFetch.settings.ignoredParameters = ['trace']
        const paths = ['/s?api_key=K&q=Jos%E9', '/s?api_key=K&q=Jos%E8', '/t?trace=1&q=caf%E9', '/t?trace=2&q=caf%E8']
        for (const path of paths) await get(path)
        assert.equal(await cache.recreateKeys(), 0)
        assert.equal(await cache.count(), 4)
        for (const path of paths) assert.equal(await cache.contains({ url: origin.url + path }), true, path)
        const count = origin.count()
        for (const path of paths) {
          const { response, body } = await get(path)
          assert.equal(cacheInfo(response)?.fromCache, true, path)
          assert.equal(body, `hello ${path}`, 'each request gets its own answer')
        }
        assert.equal(origin.count(), count)
      })

      it('re-keys after ignoredParameters changes', async () => {
        await get('/q?id=1&session=abc')
        cachedFetch.settings.ignoredParameters = ['session']
        assert.equal(await cache.recreateKeys(), 1)
        const count = origin.count()
        const { response } = await get('/q?id=1&session=xyz')
        assert.equal(cacheInfo(response)?.fromCache, true)
        assert.equal(origin.count(), count)
      })
    })

    describe('count(), size(), clear() and close()', () => {
      it('size() grows with what is stored and is 0 after clear()', async () => {
        assert.equal(await cache.size(), 0)
        const { body } = await get('/s')
        const one = await cache.size()
        assert.ok(one > Buffer.byteLength(body), `${one} bytes hold the body and its metadata`)
        await get('/s2')
        assert.ok((await cache.size()) > one)
        assert.equal(await cache.count(), 2)
        await cache.clear()
        assert.equal(await cache.size(), 0)
        assert.equal(await cache.count(), 0)
        assert.deepEqual(await cache.urls(), [])
      })
    })
  })
}

describe('Cache inspection: stores and bounds', () => {
  let origin: Origin
  let dir: string
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    origin = await startOrigin({ '*': (req, res) => void res.end(`${req.url} `.padEnd(1000, '.')) })
    ;({ dir, cleanup } = await tempDir('fetch-http-cache-bounds-'))
  })
  afterEach(async () => {
    await origin.close()
    await cleanup()
  })

  const read = async (cachedFetch: CachedFetch, path: string): Promise<Response> => {
    const response = await cachedFetch(origin.url + path)
    await response.arrayBuffer()
    return response
  }

  it('a SQLite cache past maxSize stays under it', async () => {
    const maxSize = 8000
    const cachedFetch = createCachedFetch({ cacheName: join(dir, 'bounded'), maxSize })
    try {
      for (let i = 0; i < 30; i++) {
        await read(cachedFetch, `/${i}`)
        assert.ok((await cachedFetch.cache.size()) <= maxSize, `after ${i + 1} responses`)
      }
      const count = await cachedFetch.cache.count()
      assert.ok(count > 0 && count < 30)
      assert.ok(await cachedFetch.cache.contains({ url: `${origin.url}/29` }), 'the latest response is kept')
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('a SQLite cache past maxSize drops the least recently used responses first', async () => {
    let now = Date.UTC(2025, 0, 1)
    // The store's clock is injected so that "recently used" does not need minutes of waiting: it
    // records a use at most once a minute.
    const maxSize = 5400
    const store = new SqliteStore({ path: join(dir, 'lru.sqlite'), maxSize, now: () => now })
    const cachedFetch = createCachedFetch({ backend: store })
    try {
      for (const path of ['/a', '/b', '/c', '/d']) {
        await read(cachedFetch, path)
        now += 1000
      }
      // Four responses of about 1.2 kB fit; a fifth does not.
      assert.equal(await cachedFetch.cache.count(), 4)
      assert.ok((await cachedFetch.cache.size()) > (maxSize * 4) / 5)
      now += 120_000
      const hit = await read(cachedFetch, '/a') // /a is now the most recently used
      assert.equal(cacheInfo(hit)?.fromCache, true)
      now += 1000
      await read(cachedFetch, '/e') // past the bound: /b then /c go, not /a
      const urls = await cachedFetch.cache.urls()
      assert.ok(urls.includes(`${origin.url}/a`), `kept ${urls.join(', ')}`)
      assert.ok(urls.includes(`${origin.url}/e`))
      assert.ok(!urls.includes(`${origin.url}/b`))
      assert.ok((await cachedFetch.cache.size()) <= maxSize)
    } finally {
      await cachedFetch.cache.close()
      store.close()
    }
  })

  it('a SQLite cache past maxSize drops expired responses before fresh ones', async () => {
    // About 1.2 kB per response: four fit, a fifth does not.
    const cachedFetch = createCachedFetch({ cacheName: join(dir, 'expired-first'), maxSize: 5400 })
    try {
      await read(cachedFetch, '/fresh')
      const stale = await cachedFetch(`${origin.url}/stale`, { cacheOptions: { expireAfter: PAST() } })
      await stale.arrayBuffer()
      for (const path of ['/1', '/2', '/3']) await read(cachedFetch, path)
      const urls = await cachedFetch.cache.urls()
      // Four responses fit: the fifth pushes out the expired one, not /fresh, the least recently used.
      assert.deepEqual(
        urls.sort(),
        ['/1', '/2', '/3', '/fresh'].map((path) => origin.url + path),
      )
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('a memory cache bounded by maxEntries drops the least recently used response', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory', maxEntries: 2 })
    await read(cachedFetch, '/a')
    await read(cachedFetch, '/b')
    await read(cachedFetch, '/a')
    await read(cachedFetch, '/c')
    assert.deepEqual(await cachedFetch.cache.urls(), [`${origin.url}/a`, `${origin.url}/c`])
    assert.equal(await cachedFetch.cache.count(), 2)
  })

  it('resetExpiration() on a bounded memory cache keeps the order of use', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory', maxEntries: 3 })
    for (const path of ['/a', '/b', '/c', '/a']) await read(cachedFetch, path)
    assert.equal(await cachedFetch.cache.resetExpiration('1h'), 3)
    await read(cachedFetch, '/d') // evicts /b, the least recently used
    assert.deepEqual(
      await cachedFetch.cache.urls(),
      ['/a', '/c', '/d'].map((path) => origin.url + path),
    )
  })

  it('a memory cache bounded by maxSize stays under it', async () => {
    const cachedFetch = createCachedFetch({ backend: 'memory', maxSize: 4000 })
    for (let i = 0; i < 10; i++) await read(cachedFetch, `/${i}`)
    assert.ok((await cachedFetch.cache.size()) <= 4000)
    const urls = await cachedFetch.cache.urls()
    assert.ok(urls.length > 0 && urls.length < 10)
    assert.ok(urls.includes(`${origin.url}/9`))
  })

  it('a SQLite file that cannot be opened: inspection calls reject with the reason, never answer "empty"', async () => {
    // Its directory is a regular file: the store cannot be opened, whoever runs the test.
    await writeFile(join(dir, 'not-a-directory'), 'x')
    const reported: Error[] = []
    const cachedFetch = createCachedFetch({
      cacheName: join(dir, 'not-a-directory', 'cache'),
      onError: (error) => reported.push(error),
    })
    try {
      assert.deepEqual(
        reported.map((error) => error.name),
        ['StoreUnavailableError'],
      )
      const unavailable = (error: unknown) => error instanceof StoreUnavailableError && error === reported[0]
      await assert.rejects(cachedFetch.cache.count(), unavailable)
      await assert.rejects(cachedFetch.cache.urls(), unavailable)
      await assert.rejects(cachedFetch.cache.clear(), unavailable)
      await assert.rejects(cachedFetch.cache.delete({ expired: true }), unavailable)
      await assert.rejects(async () => {
        for await (const _ of cachedFetch.cache.responses()) assert.fail('nothing to list')
      }, unavailable)
      // Requests still go to the network.
      assert.equal((await read(cachedFetch, '/a')).status, 200)
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('close() closes a store the cache opened, and leaves a store passed in to its owner', async () => {
    const owned = createCachedFetch({ cacheName: join(dir, 'owned') })
    await read(owned, '/x')
    await owned.cache.close()
    await assert.rejects(owned.cache.count(), StoreError)

    const store = new MemoryStore()
    const lent = createCachedFetch({ backend: store })
    await read(lent, '/x')
    await lent.cache.close()
    assert.equal(await lent.cache.count(), 1)
    assert.equal(lent.cache.store, store)
  })

  it('on SQLite, listing, counting, contains(), delete() and resetExpiration() read no body: they work with every body row gone', async () => {
    const cachedFetch = createCachedFetch({ cacheName: join(dir, 'meta') })
    try {
      for (const path of ['/a', '/b', '/c']) await read(cachedFetch, path)
      await (cachedFetch.cache.store as SqliteStore).flush()
      const db = new Database(join(dir, 'meta.sqlite'))
      try {
        db.pragma('busy_timeout = 5000')
        assert.equal(db.prepare('DELETE FROM bodies').run().changes, 3)
      } finally {
        db.close()
      }
      const cache = cachedFetch.cache
      assert.equal(await cache.count(), 3)
      assert.deepEqual(
        await cache.urls(),
        ['/a', '/b', '/c'].map((path) => origin.url + path),
      )
      assert.deepEqual(
        (await collect(cache.filter())).map((r) => r.size),
        [1000, 1000, 1000],
      )
      assert.equal(await cache.contains({ url: `${origin.url}/a` }), true)
      assert.equal(await cache.resetExpiration('1h'), 3)
      assert.equal(await cache.delete({ urls: [`${origin.url}/a`] }), 1)
      assert.equal(await cache.count(), 2)
      const [listed] = await collect(cache.responses())
      assert.equal(await listed?.body(), undefined, 'reading a body is what the missing rows break')
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('scans a large cache in slices: the event loop gets turns during count()', async () => {
    const store = new MemoryStore({ maxEntries: 5000 })
    for (let i = 0; i < 3000; i++) store.set(`k${i}`, makeEntry({ key: `k${i}`, url: `https://example.com/${i}` }))
    const cachedFetch = createCachedFetch({ backend: store })
    let turns = 0
    let counting = true
    const turn = () => {
      if (!counting) return
      turns++
      setImmediate(turn)
    }
    setImmediate(turn)
    assert.equal(await cachedFetch.cache.count(), 3000)
    counting = false
    assert.ok(turns >= 5, `${turns} turns of the loop during the count`)
  })

  it('getCache() inspects the installed cache', async () => {
    installCache({ backend: 'memory' })
    try {
      const cache = getCache()
      assert.ok(cache)
      await (await fetch(`${origin.url}/installed`)).arrayBuffer()
      assert.deepEqual(await cache.urls(), [`${origin.url}/installed`])
      assert.equal(await cache.contains({ url: `${origin.url}/installed` }), true)
      assert.equal(await cache.delete({ urls: [`${origin.url}/installed`] }), 1)
      assert.equal(await cache.count(), 0)
    } finally {
      uninstallCache()
    }
  })
})

async function* toAsync<T>(iterable: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* iterable
}

describe('exporting entries stored with an expiry past what a Date holds', () => {
  it('exportHar lists one stored before durations were capped at 2^31 s as never expiring, without throwing', async () => {
    const store = new MemoryStore()
    store.set('forever', makeEntry({ key: 'forever', url: 'https://example.com/forever', expires: 1e303 }))
    const cachedFetch = createCachedFetch({ backend: store })
    const har = await exportHar(cachedFetch.cache, '0.0.0')
    assert.equal(har.log.entries.length, 1)
    assert.equal(har.log.entries[0]?._expires, null)
  })
})
