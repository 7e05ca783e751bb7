import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type CacheFront, forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { gate, route, startPerTestOn, status, validatedRoute, waitFor } from './fixtures.js'

const S = 1000

/** Whether the stored entry is fresh again, asked without touching the origin. */
async function isFresh(front: CacheFront, url: string): Promise<boolean> {
  const response = await front.get(url, { cacheOptions: { onlyIfCached: true } })
  await response.cancel()
  return response.status === 200 && response.fromCache && !response.stale
}

const failWith =
  (statusCode: number): Route =>
  (_req, res) => {
    res.statusCode = statusCode
    res.end('origin failed')
  }

forEachFront('stale', (kind) => {
  const start = startPerTestOn(kind)

  describe('staleIfError', () => {
    test('true: a network error serves the expired entry, marked stale', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleIfError: true })
      await (await front.get(url('/a'))).text()
      clock.advance(3600 * S)
      await origin.close() // nothing listens on the port any more
      const response = await front.get(url('/a'))
      assert.equal(await response.text(), 'hello /a')
      assert.equal(response.fromCache, true)
      assert.equal(response.stale, true)
      assert.equal(response.isExpired, true)
      assert.match(status(response), /detail=stale-if-error/)
    })

    test('true: a 5xx serves the expired entry (test_stale_if_error__error_code)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleIfError: true })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      origin.route('/a', failWith(503))
      const response = await front.get(url('/a'))
      assert.equal(response.status, 200)
      assert.equal(await response.text(), 'hello /a')
      assert.equal(response.stale, true)
      assert.match(status(response), /fwd=stale; fwd-status=503; ttl=-1; detail=stale-if-error/)
    })

    test('a 5xx listed in allowableCodes is an answer, not an error (test_stale_if_error__error_code_in_allowable_codes)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleIfError: true, allowableCodes: [200, 503] })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      origin.route('/a', failWith(503))
      const response = await front.get(url('/a'))
      assert.equal(response.status, 503)
      assert.equal(response.fromCache, false)
    })

    test('a duration: stale within it is served, beyond it the error comes through (test_stale_if_error__max_stale)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleIfError: '30s' })
      await (await front.get(url('/a'))).text()
      origin.route('/a', failWith(500))
      clock.advance(80 * S) // 20 s past expiry
      assert.equal((await front.get(url('/a'))).stale, true)
      clock.advance(20 * S) // 40 s past expiry
      const failed = await front.get(url('/a'))
      assert.equal(failed.status, 500)
      assert.equal(await failed.text(), 'origin failed')
    })

    test('off: a network error rejects and a 5xx passes through (test_expired_request_error)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      origin.route('/a', failWith(502))
      assert.equal((await front.get(url('/a'))).status, 502)
      await origin.close()
      await assert.rejects(front.get(url('/a')), kind.networkError)
    })

    test('per request: cacheOptions.staleIfError turns it on for one call', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      origin.route('/a', failWith(500))
      assert.equal((await front.get(url('/a'))).status, 500)
      const stale = await front.get(url('/a'), { cacheOptions: { staleIfError: true } })
      assert.equal(stale.status, 200)
      assert.equal(stale.stale, true)
    })

    test('a failed revalidation of an entry with a validator falls back to it too', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleIfError: true }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      origin.route('/v', failWith(500))
      const response = await front.get(url('/v'))
      assert.equal(await response.text(), 'body v1')
      assert.equal(response.stale, true)
      assert.equal(origin.requests[1]?.headers['if-none-match'], '"v1"')
    })
  })

  describe('staleWhileRevalidate', () => {
    test('serves the expired entry at once and refreshes it in the background', async () => {
      const { front, origin, clock, url } = await start(
        { expireAfter: 60, staleWhileRevalidate: true },
        { '/n': route((n) => `body ${n}`) },
      )
      await (await front.get(url('/n'))).text()
      clock.advance(61 * S)
      const stale = await front.get(url('/n'))
      assert.equal(await stale.text(), 'body 1')
      assert.equal(stale.stale, true)
      assert.match(status(stale), /^fetch-http-cache; hit; ttl=-1; detail=stale-while-revalidate$/)
      await front.settled() // the background refresh, stored
      const fresh = await front.get(url('/n'))
      assert.equal(await fresh.text(), 'body 2')
      assert.equal(fresh.stale, false)
      assert.equal(origin.count('/n'), 2)
    })

    test("RFC 9111 §5.2.1: a request's own max-age, min-fresh or exceeded max-stale is never answered stale inside the window", async () => {
      const limits = ['max-age=30', 'min-fresh=10', 'max-stale=5']
      const routes = Object.fromEntries([...limits, 'ok'].map((path) => [`/${path}`, route((n) => `body ${n}`)]))
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleWhileRevalidate: true }, routes)
      for (const limit of limits) await (await front.get(url(`/${limit}`))).text()
      clock.advance(70 * S) // 10 s stale
      for (const limit of limits) {
        const response = await front.get(url(`/${limit}`), { headers: { 'cache-control': limit } })
        assert.equal(await response.text(), 'body 2', limit)
        assert.equal(response.fromCache, false, limit)
        assert.equal(origin.count(`/${limit}`), 2, limit)
      }
      // A limit the stale entry meets still gets it at once.
      await (await front.get(url('/ok'))).text()
      clock.advance(70 * S)
      const within = await front.get(url('/ok'), { headers: { 'cache-control': 'max-age=3600' } })
      assert.equal(await within.text(), 'body 1')
      assert.equal(within.stale, true)
      await front.settled()
    })

    test('the background refresh is conditional when the entry has a validator', async () => {
      const { front, origin, clock, url } = await start(
        { expireAfter: 60, staleWhileRevalidate: true },
        { '/v': validatedRoute() },
      )
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      await (await front.get(url('/v'))).text()
      await front.settled()
      assert.equal(await isFresh(front, url('/v')), true, 'the revalidated entry')
      assert.equal(origin.requests[1]?.headers['if-none-match'], '"v1"')
      assert.equal(origin.count('/v'), 2)
    })

    test('cacheControl: the background refresh of an entry without a validator asks with its Date, as a revalidation in the path does', async () => {
      const { front, origin, clock, url } = await start(
        { expireAfter: 60, staleWhileRevalidate: true, cacheControl: true },
        {
          '/d': (req, res) => {
            res.setHeader('date', new Date(clock.now()).toUTCString())
            if (req.headers['if-modified-since'] !== undefined) {
              res.statusCode = 304
              res.end()
              return
            }
            res.end('body')
          },
        },
      )
      await (await front.get(url('/d'))).text()
      clock.advance(61 * S)
      await (await front.get(url('/d'))).text()
      await waitFor(() => isFresh(front, url('/d')), 'the revalidated entry')
      // RFC 9110 §13.1.3: the stored Date stands in for Last-Modified.
      assert.match(origin.requests[1]?.headers['if-modified-since'] ?? '', /GMT$/)
      assert.equal(origin.count('/d'), 2)
    })

    test("the refresh does not carry the caller's AbortSignal, and only one runs per key", async () => {
      const open = gate()
      const arrived = gate()
      let served = 0
      const { front, origin, clock, url } = await start(
        { expireAfter: 60, staleWhileRevalidate: true },
        {
          '/slow': async (_req, res) => {
            served++
            if (served > 1) {
              arrived.open()
              await open.promise
            }
            res.end(`slow ${served}`)
          },
        },
      )
      await (await front.get(url('/slow'))).text()
      clock.advance(61 * S)
      const controllers = [new AbortController(), new AbortController(), new AbortController()]
      for (const controller of controllers) {
        const response = await front.get(url('/slow'), { signal: controller.signal })
        assert.equal(await response.text(), 'slow 1')
        controller.abort()
      }
      await arrived.promise // the background request reached the origin
      open.open()
      await front.settled()
      assert.equal(await isFresh(front, url('/slow')), true, 'the refreshed entry')
      assert.equal(await (await front.get(url('/slow'))).text(), 'slow 2')
      assert.equal(origin.count('/slow'), 2, 'one background refresh for three stale hits')
    })

    test('a duration: within it stale is served, beyond it the request waits for the origin (test_stale_while_revalidate__time)', async () => {
      const { front, origin, clock, url } = await start(
        { expireAfter: 60, staleWhileRevalidate: '30s' },
        { '/n': route((n) => `body ${n}`) },
      )
      await (await front.get(url('/n'))).text()
      clock.advance(80 * S) // 20 s past expiry: within the window
      const stale = await front.get(url('/n'))
      assert.equal(await stale.text(), 'body 1')
      assert.equal(stale.stale, true)
      await front.settled() // its background refresh stored body 2, expiring 60 s from now
      assert.equal(origin.count('/n'), 2)
      clock.advance(100 * S) // 40 s past that expiry: beyond the window
      const waited = await front.get(url('/n'))
      assert.equal(await waited.text(), 'body 3')
      assert.equal(waited.stale, false)
      assert.equal(waited.fromCache, false)
      assert.equal(origin.count('/n'), 3)
    })

    test('per request: cacheOptions.staleWhileRevalidate', async () => {
      const { front, clock, url } = await start({ expireAfter: 60 }, { '/n': route((n) => `body ${n}`) })
      await (await front.get(url('/n'))).text()
      clock.advance(61 * S)
      const stale = await front.get(url('/n'), { cacheOptions: { staleWhileRevalidate: '1m' } })
      assert.equal(await stale.text(), 'body 1')
      assert.equal(stale.stale, true)
      await front.settled()
      assert.equal(await isFresh(front, url('/n')), true, 'the refreshed entry')
    })

    test('readOnly: the stale entry is served and no refresh is sent (it could not be stored)', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleWhileRevalidate: true })
      await (await front.get(url('/a'))).text()
      front.settings.readOnly = true
      clock.advance(61 * S)
      for (let i = 0; i < 3; i++) assert.equal((await front.get(url('/a'))).stale, true)
      await front.settled() // a refresh, had one started, would be awaited here
      assert.equal(origin.count('/a'), 1)
    })

    test('a failing background refresh keeps the entry and breaks nothing', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60, staleWhileRevalidate: true })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      origin.route('/a', failWith(500))
      assert.equal(await (await front.get(url('/a'))).text(), 'hello /a')
      await front.settled()
      assert.equal(origin.count('/a'), 2, 'the background request')
      const again = await front.get(url('/a'))
      assert.equal(await again.text(), 'hello /a')
      assert.equal(again.stale, true)
    })
  })
})
