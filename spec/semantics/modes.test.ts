import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { NEVER_EXPIRE } from '../../lib/options/expire-after.js'
import type { CacheRequestInit } from '../../lib/request/from-fetch.js'
import { type FrontInit, forEachFront } from '../helpers/fronts.js'
import { route, startPerTest, startPerTestOn, status, validatedRoute } from './fixtures.js'

const S = 1000

/** The per-request options every test below passes; none of them may reach the origin. */
const EVERY_CACHE_OPTION: FrontInit = {
  cacheOptions: { expireAfter: 5, refresh: true, forceRefresh: true, staleIfError: true, staleWhileRevalidate: '1m' },
}

/** Asserts that the origin saw no caching field and nothing of the cache's options. */
function assertNothingReachedTheOrigin(requests: { headers: Record<string, string | string[] | undefined> }[]): void {
  assert.ok(requests.length >= 1)
  for (const seen of requests) {
    assert.equal(seen.headers['cache-control'], undefined)
    assert.equal(seen.headers.pragma, undefined)
    for (const [name, value] of Object.entries(seen.headers)) {
      assert.ok(!/cache-?options|expire|refresh|stale/i.test(`${name}: ${value}`), `${name}: ${value}`)
    }
  }
}

forEachFront('modes', (kind) => {
  const start = startPerTestOn(kind)

  describe('onlyIfCached, readOnly, disabled', () => {
    test('onlyIfCached: a miss is a 504 "Not Cached" and the origin is never asked', async () => {
      const { front, origin, url } = await start({ onlyIfCached: true })
      const response = await front.get(url('/a'))
      assert.equal(response.status, 504)
      assert.equal(response.statusText, 'Not Cached')
      assert.equal(await response.text(), 'Not Cached')
      assert.equal(response.fromCache, false)
      assert.equal(origin.count(), 0)
    })

    test('onlyIfCached: a fresh entry is served; an expired one is a 504 (test_request_only_if_cached__expired)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      await (await front.get(url('/a'))).text()
      front.settings.onlyIfCached = true
      assert.equal((await front.get(url('/a'))).fromCache, true)
      clock.advance(61 * S)
      assert.equal((await front.get(url('/a'))).status, 504)
      front.settings.staleIfError = true
      const stale = await front.get(url('/a'))
      assert.equal(
        stale.status,
        200,
        'with staleIfError the expired entry is served (test_request_only_if_cached__stale_if_error__expired)',
      )
      assert.equal(stale.stale, true)
      assert.equal(origin.count(), 1)
    })

    test('readOnly: serves what is stored, stores nothing new', async () => {
      const { front, origin, url } = await start()
      await (await front.get(url('/a'))).text()
      front.settings.readOnly = true
      assert.equal((await front.get(url('/a'))).fromCache, true)
      for (let i = 0; i < 2; i++) {
        const response = await front.get(url('/b'))
        await response.text()
        assert.match(status(response), /^fetch-http-cache; fwd=miss; fwd-status=200$/)
      }
      assert.equal(origin.count('/b'), 2)
      assert.equal(await front.cache.count(), 1)
    })

    test('disabled: neither reads nor writes, and can be switched at runtime', async () => {
      const { front, origin, url } = await start()
      await (await front.get(url('/a'))).text()
      front.settings.disabled = true
      const bypassed = await front.get(url('/a'))
      await bypassed.text()
      assert.equal(bypassed.fromCache, false)
      await (await front.get(url('/b'))).text()
      front.settings.disabled = false
      assert.equal((await front.get(url('/a'))).fromCache, true)
      await (await front.get(url('/b'))).text()
      assert.equal(origin.count('/b'), 2, '/b was not stored while disabled')
    })
  })

  describe('init.cacheOptions: per-request options', () => {
    test('expireAfter for one request beats the session setting (test_request_expire_after__*)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      const never = await front.get(url('/a'), { cacheOptions: { expireAfter: NEVER_EXPIRE } })
      await never.text()
      assert.equal(never.expires, undefined)
      const short = await front.get(url('/b'), { cacheOptions: { expireAfter: '5s' } })
      await short.text()
      clock.advance(10 * S)
      assert.equal((await front.get(url('/a'))).fromCache, true)
      await (await front.get(url('/b'))).text()
      assert.equal(origin.count('/b'), 2)
    })

    test('onlyIfCached for one request', async () => {
      const { front, origin, url } = await start()
      assert.equal((await front.get(url('/a'), { cacheOptions: { onlyIfCached: true } })).status, 504)
      assert.equal(origin.count(), 0)
    })

    test('forceRefresh skips the read, stores the answer, and its expireAfter replaces the old one (test_request_force_refresh)', async () => {
      const { front, url } = await start({}, { '/n': route((n) => `body ${n}`) })
      await (await front.get(url('/n'), { cacheOptions: { expireAfter: NEVER_EXPIRE } })).text()
      const forced = await front.get(url('/n'), { cacheOptions: { forceRefresh: true, expireAfter: 360 } })
      assert.equal(await forced.text(), 'body 2')
      const after = await front.get(url('/n'))
      assert.equal(after.fromCache, true)
      assert.notEqual(after.expires, undefined)
    })
  })

  describe('neither init.cache nor init.cacheOptions reaches the origin', () => {
    test('every cacheOptions', async () => {
      const { front, origin, url } = await start({}, { '/v': validatedRoute() })
      await (await front.get(url('/v'), EVERY_CACHE_OPTION)).text()
      await (await front.get(url('/v'), EVERY_CACHE_OPTION)).text()
      assertNothingReachedTheOrigin(origin.requests)
    })
  })
})

describe('modes [fetch only]', () => {
  const start = startPerTest()

  describe('onlyIfCached, readOnly, disabled', () => {
    test("onlyIfCached: the 504 for a miss has the request's URL", async () => {
      const { cachedFetch, url } = await start({ onlyIfCached: true })
      const response = await cachedFetch(url('/a'))
      assert.equal(response.status, 504)
      assert.equal(response.url, url('/a'))
    })

    test('cacheDisabled nests and restores the cache after (test_cache_disabled__nested)', async () => {
      const { cachedFetch, origin, url } = await start()
      await (await cachedFetch(url('/a'))).text()
      await cachedFetch.cacheDisabled(async () => {
        await (await cachedFetch(url('/a'))).text()
        await cachedFetch.cacheDisabled(async () => {
          for (let i = 0; i < 2; i++) await (await cachedFetch(url('/a'))).text()
        })
        await (await cachedFetch(url('/a'))).text()
      })
      assert.equal(origin.count('/a'), 5)
      assert.equal(cacheInfo(await cachedFetch(url('/a')))?.fromCache, true)
      const { hits, misses, bypasses } = cachedFetch.cache.stats()
      assert.deepEqual({ hits, misses, bypasses }, { hits: 1, misses: 1, bypasses: 0 }, 'requests inside are not the cache’s')
    })

    test('a request inside cacheDisabled carries no Cache-Status: the cache never saw it', async () => {
      const { cachedFetch, url } = await start()
      const response = await cachedFetch.cacheDisabled(() => cachedFetch(url('/a')))
      await response.text()
      assert.equal(response.headers.get('cache-status'), null)
      assert.equal(cacheInfo(response), undefined)
    })

    test('cacheDisabled returns what fn returns and rethrows what it throws', async () => {
      const { cachedFetch } = await start()
      assert.equal(await cachedFetch.cacheDisabled(() => 42), 42)
      await assert.rejects(
        cachedFetch.cacheDisabled(() => {
          throw new Error('inside')
        }),
        /inside/,
      )
    })
  })

  describe("init.cache: Fetch's cache modes", () => {
    test("'no-store' neither reads nor writes", async () => {
      const { cachedFetch, origin, url } = await start()
      await (await cachedFetch(url('/a'))).text()
      const response = await cachedFetch(url('/a'), { cache: 'no-store' })
      await response.text()
      assert.equal(cacheInfo(response)?.fromCache, false)
      await (await cachedFetch(url('/b'), { cache: 'no-store' })).text()
      assert.equal(await cachedFetch.cache.count(), 1)
      assert.equal(origin.count(), 3)
    })

    test("'reload' skips the read and stores the answer", async () => {
      const { cachedFetch, origin, url } = await start({}, { '/n': route((n) => `body ${n}`) })
      await (await cachedFetch(url('/n'))).text()
      const reloaded = await cachedFetch(url('/n'), { cache: 'reload' })
      assert.equal(await reloaded.text(), 'body 2')
      assert.match(status(reloaded), /^fetch-http-cache; fwd=request; fwd-status=200; stored/)
      assert.equal(await (await cachedFetch(url('/n'))).text(), 'body 2')
      assert.equal(origin.count('/n'), 2)
    })

    test("'no-cache' revalidates a fresh entry", async () => {
      const { cachedFetch, origin, url } = await start({}, { '/v': validatedRoute() })
      await (await cachedFetch(url('/v'))).text()
      const response = await cachedFetch(url('/v'), { cache: 'no-cache' })
      assert.equal(cacheInfo(response)?.revalidated, true)
      assert.equal(origin.requests[1]?.headers['if-none-match'], '"v1"')
    })

    test("'force-cache' serves an expired entry without asking the origin", async () => {
      const { cachedFetch, origin, clock, url } = await start({ expireAfter: 60 })
      await (await cachedFetch(url('/a'))).text()
      clock.advance(3600 * S)
      const response = await cachedFetch(url('/a'), { cache: 'force-cache' })
      assert.equal(await response.text(), 'hello /a')
      assert.equal(cacheInfo(response)?.stale, true)
      await (await cachedFetch(url('/b'), { cache: 'force-cache' })).text()
      assert.equal(origin.count('/a'), 1)
      assert.equal(origin.count('/b'), 1, 'a miss still goes to the origin')
    })

    test("'only-if-cached' serves any stored entry, even expired, and is a 504 on a miss", async () => {
      const { cachedFetch, origin, clock, url } = await start({ expireAfter: 60 })
      await (await cachedFetch(url('/a'))).text()
      clock.advance(3600 * S)
      const response = await cachedFetch(url('/a'), { cache: 'only-if-cached' })
      assert.equal(response.status, 200)
      assert.equal(cacheInfo(response)?.stale, true)
      assert.equal((await cachedFetch(url('/b'), { cache: 'only-if-cached' })).status, 504)
      assert.equal(origin.count(), 1)
    })

    test('a Request carrying a cache mode is honoured too', async () => {
      const { cachedFetch, origin, url } = await start({}, { '/v': validatedRoute() })
      await (await cachedFetch(url('/v'))).text()
      const response = await cachedFetch(new Request(url('/v'), { cache: 'no-cache' } as RequestInit))
      assert.equal(cacheInfo(response)?.revalidated, true)
      assert.equal(origin.requests[1]?.headers['cache-control'], 'max-age=0')
    })
  })

  describe('init.cache never reaches undici; only the fields Fetch §4.5 adds for the mode reach the origin', () => {
    const inits: [string, CacheRequestInit, string | undefined, string | undefined][] = [
      ["cache: 'no-store'", { cache: 'no-store' }, 'no-cache', 'no-cache'],
      ["cache: 'reload'", { cache: 'reload' }, 'no-cache', 'no-cache'],
      ["cache: 'no-cache'", { cache: 'no-cache' }, 'max-age=0', undefined],
      ["cache: 'force-cache'", { cache: 'force-cache' }, undefined, undefined],
    ]
    for (const [what, init, cacheControl, pragma] of inits) {
      test(what, async () => {
        const { cachedFetch, origin, url } = await start({}, { '/v': validatedRoute() })
        await (await cachedFetch(url('/v'), init)).text()
        await (await cachedFetch(url('/v'), init)).text()
        assert.ok(origin.requests.length >= 1)
        for (const seen of origin.requests) {
          assert.equal(seen.headers['cache-control'], cacheControl)
          assert.equal(seen.headers.pragma, pragma)
        }
      })
    }

    test('the same fields when the cache is disabled', async () => {
      const { cachedFetch, origin, url } = await start({ disabled: true })
      await (await cachedFetch(url('/a'), { cache: 'no-cache' })).text()
      await cachedFetch.cacheDisabled(async () => (await cachedFetch(url('/a'), { cache: 'reload' })).text())
      assert.deepEqual(
        origin.requests.map((r) => r.headers['cache-control']),
        ['max-age=0', 'no-cache'],
      )
    })
  })
})
