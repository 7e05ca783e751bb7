import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, test } from 'node:test'
import { DO_NOT_CACHE, NEVER_EXPIRE } from '../../lib/options/expire-after.js'
import { type CacheFront, type FrontInit, forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { startPerTestOn, status, storedResponse, validatedRoute } from './fixtures.js'

const S = 1000

/** Sends, reads the body, and returns the lifetime the stored entry got (ms), or `null` for never. */
async function lifetimeOf(front: CacheFront, url: string, init?: FrontInit): Promise<number | null> {
  const response = await front.get(url, init)
  await response.text()
  const entry = await storedResponse(front, url)
  assert.ok(entry, `${url} was stored`)
  return entry.expires ? entry.expires.getTime() - entry.createdAt.getTime() : null
}

/** A route whose response headers come from the query: `?h=name:value&h=...`, with `Date` from the clock. */
function echoHeaders(clock: () => number): Route {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    res.setHeader('date', new Date(clock()).toUTCString())
    res.setHeader('content-type', 'text/plain')
    for (const pair of url.searchParams.getAll('h')) {
      const i = pair.indexOf(':')
      res.setHeader(pair.slice(0, i), pair.slice(i + 1))
    }
    res.end(`hello ${url.search}`)
  }
}

forEachFront('expiry', (kind) => {
  const start = startPerTestOn(kind)

  describe('urlsExpireAfter', () => {
    test('globs match the URL without its scheme as a prefix; RegExps are searched; other URLs get expireAfter', async () => {
      const { front, origin, url } = await start()
      const host = new URL(origin.url).host
      front.settings.expireAfter = 10
      front.settings.urlsExpireAfter = [
        [`${host}/api/*/detail`, 30],
        [`${host}/api`, '1m'],
        [/\/static\//, NEVER_EXPIRE],
      ]
      assert.equal(await lifetimeOf(front, url('/api/users/detail')), 30 * S)
      assert.equal(await lifetimeOf(front, url('/api/users')), 60 * S)
      assert.equal(await lifetimeOf(front, url('/assets/static/app.js')), null)
      assert.equal(await lifetimeOf(front, url('/other')), 10 * S)
    })

    test('the first matching rule wins, in the order given (object order too)', async () => {
      const { front, origin, url } = await start()
      const host = new URL(origin.url).host
      front.settings.urlsExpireAfter = { [`${host}/a/special`]: 5, [`${host}/a`]: 50, '*': 500 }
      assert.equal(await lifetimeOf(front, url('/a/special/x')), 5 * S)
      assert.equal(await lifetimeOf(front, url('/a/b')), 50 * S)
      assert.equal(await lifetimeOf(front, url('/b')), 500 * S)
    })

    test('DO_NOT_CACHE as the last rule turns the rules into an allow-list (test_url_allowlist)', async () => {
      const { front, origin, url } = await start()
      const host = new URL(origin.url).host
      front.settings.urlsExpireAfter = [
        [`${host}/api`, 60],
        ['*', DO_NOT_CACHE],
      ]
      for (let i = 0; i < 2; i++) {
        await (await front.get(url('/api/x'))).text()
        const other = await front.get(url('/other'))
        await other.text()
        assert.match(status(other), /fwd=bypass/)
      }
      assert.equal(origin.count('/api/x'), 1)
      assert.equal(origin.count('/other'), 2)
      assert.equal(await front.cache.count(), 1)
    })
  })

  describe('cacheControl: response headers (opt-in)', () => {
    test('off: response Cache-Control is ignored and expireAfter applies', async () => {
      const s = await start({ expireAfter: 600 })
      s.origin.route('/r', echoHeaders(s.clock.now))
      assert.equal(await lifetimeOf(s.front, s.url('/r?h=cache-control:max-age=30')), 600 * S)
      await (await s.front.get(s.url('/r?h=cache-control:no-store'))).text()
      assert.equal((await s.front.get(s.url('/r?h=cache-control:no-store'))).fromCache, true)
    })

    test('on: max-age, Expires and Age set the lifetime and win over expireAfter', async () => {
      const s = await start({ expireAfter: 600, cacheControl: true })
      s.origin.route('/r', echoHeaders(s.clock.now))
      const in2h = new Date(s.clock.now() + 7200 * S).toUTCString()
      assert.equal(await lifetimeOf(s.front, s.url('/r?h=cache-control:max-age=30')), 30 * S)
      assert.equal(await lifetimeOf(s.front, s.url(`/r?h=expires:${encodeURIComponent(in2h)}`)), 7200 * S)
      assert.equal(
        await lifetimeOf(s.front, s.url(`/r?h=expires:${encodeURIComponent(in2h)}&h=cache-control:max-age=40`)),
        40 * S,
      )
      assert.equal(await lifetimeOf(s.front, s.url('/r?h=cache-control:max-age=30&h=age:10')), 20 * S)
      // RFC 8246: immutable gives no freshness of its own (with cacheControl the RFC wins over
      // requests-cache, which reads it as NEVER_EXPIRE): the explicit expireAfter applies.
      assert.equal(await lifetimeOf(s.front, s.url('/r?h=cache-control:immutable')), 600 * S)
      assert.equal(await lifetimeOf(s.front, s.url('/r?x=plain')), 600 * S, 'no freshness headers: the explicit expireAfter')
    })

    test('on: no-store is never stored; a malformed Expires is already expired', async () => {
      const s = await start({ cacheControl: true })
      s.origin.route('/r', echoHeaders(s.clock.now))
      for (let i = 0; i < 2; i++) {
        await (await s.front.get(s.url('/r?h=cache-control:no-store'))).text()
        await (await s.front.get(s.url('/r?h=expires:0'))).text()
      }
      assert.equal(s.origin.count(), 4)
      assert.equal(await s.front.cache.count(), 0)
    })

    test('on: no-cache with a validator is stored and revalidated on every use', async () => {
      const s = await start({ cacheControl: true })
      s.origin.route('/v', validatedRoute({ headers: { 'cache-control': 'no-cache' }, clock: s.clock }))
      await (await s.front.get(s.url('/v'))).text()
      for (let i = 0; i < 3; i++) {
        const response = await s.front.get(s.url('/v'))
        assert.equal(await response.text(), 'body v1')
        assert.equal(response.revalidated, true)
      }
      assert.deepEqual(
        s.origin.requests.map((r) => r.headers['if-none-match']),
        [undefined, '"v1"', '"v1"', '"v1"'],
      )
    })

    test('on: must-revalidate forbids serving stale even with staleIfError', async () => {
      const s = await start({ cacheControl: true, staleIfError: true })
      s.origin.route('/m', (_req, res) => {
        res.setHeader('date', new Date(s.clock.now()).toUTCString())
        res.setHeader('cache-control', 'max-age=10, must-revalidate')
        res.end(s.origin.count('/m') === 1 ? 'ok' : '')
      })
      await (await s.front.get(s.url('/m'))).text()
      s.clock.advance(20 * S)
      s.origin.route('/m', (_req, res) => {
        res.statusCode = 503
        res.end('down')
      })
      const response = await s.front.get(s.url('/m'))
      assert.equal(response.status, 503)
      assert.equal(response.fromCache, false)
    })
  })

  describe('request Cache-Control is always honoured (cacheControl off)', () => {
    test('no-store neither reads nor writes', async () => {
      const { front, origin, url } = await start()
      await (await front.get(url('/a'))).text()
      const response = await front.get(url('/a'), { headers: { 'cache-control': 'no-store' } })
      await response.text()
      assert.equal(response.fromCache, false)
      await (await front.get(url('/b'), { headers: { 'cache-control': 'no-store' } })).text()
      assert.equal(await front.cache.count(), 1)
      assert.equal(origin.count(), 3)
    })

    test('no-cache and max-age=0 revalidate a fresh entry; Pragma: no-cache too', async () => {
      const { front, origin, url } = await start({}, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      for (const headers of [{ 'cache-control': 'no-cache' }, { 'cache-control': 'max-age=0' }, { pragma: 'no-cache' }]) {
        const response = await front.get(url('/v'), { headers })
        assert.equal(response.revalidated, true, JSON.stringify(headers))
      }
      assert.equal(origin.count('/v'), 4)
      assert.equal(origin.requests.filter((r) => r.headers['if-none-match'] === '"v1"').length, 3)
    })

    test('max-age=N stores with N seconds and refuses an older entry', async () => {
      const { front, origin, clock, url } = await start()
      assert.equal(await lifetimeOf(front, url('/a'), { headers: { 'cache-control': 'max-age=120' } }), 120 * S)
      clock.advance(60 * S)
      assert.equal((await front.get(url('/a'), { headers: { 'cache-control': 'max-age=90' } })).fromCache, true)
      const refused = await front.get(url('/a'), { headers: { 'cache-control': 'max-age=30' } })
      await refused.text()
      assert.equal(refused.fromCache, false)
      assert.equal(origin.count('/a'), 2)
    })

    test('max-stale accepts an expired entry; min-fresh refuses one about to expire', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      await (await front.get(url('/a'))).text()
      clock.advance(50 * S)
      const notFreshEnough = await front.get(url('/a'), { headers: { 'cache-control': 'min-fresh=30' } })
      await notFreshEnough.text()
      assert.equal(notFreshEnough.fromCache, false)
      clock.advance(80 * S)
      const stale = await front.get(url('/a'), { headers: { 'cache-control': 'max-stale=60' } })
      assert.equal(stale.fromCache, true)
      assert.equal(stale.stale, true)
      assert.equal(origin.count('/a'), 2)
    })

    test('only-if-cached: a miss is a 504 and the origin is never asked', async () => {
      const { front, origin, url } = await start()
      const response = await front.get(url('/a'), { headers: { 'cache-control': 'only-if-cached' } })
      assert.equal(response.status, 504)
      assert.equal(origin.count(), 0)
    })
  })
})
