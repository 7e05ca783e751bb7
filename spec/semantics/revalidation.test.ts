import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { route, startPerTestOn, status, validatedRoute } from './fixtures.js'

const S = 1000
const LAST_MODIFIED = 'Wed, 01 Jan 2025 00:00:00 GMT'

forEachFront('revalidation', (kind) => {
  const start = startPerTestOn(kind)

  describe('conditional requests', () => {
    test('an expired entry with an ETag is revalidated with If-None-Match; the 304 serves the stored body', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      const first = await front.get(url('/v'))
      await first.text()
      const firstExpiry = first.expires ?? 0
      clock.advance(61 * S)
      const response = await front.get(url('/v'))
      assert.equal(await response.text(), 'body v1')
      assert.equal(response.status, 200)
      assert.equal(response.fromCache, true)
      assert.equal(response.revalidated, true)
      assert.equal(response.stale, false)
      assert.equal(response.isExpired, false)
      assert.ok((response.expires ?? 0) > firstExpiry, 'the 304 renewed the expiry')
      assert.equal(origin.requests[1]?.headers['if-none-match'], '"v1"')
      assert.match(status(response), /^fetch-http-cache; fwd=stale; fwd-status=304; stored; ttl=60$/)
    })

    test('an entry with only Last-Modified is revalidated with If-Modified-Since', async () => {
      const { front, origin, clock, url } = await start(
        { expireAfter: 60 },
        { '/v': validatedRoute({ etag: false, lastModified: LAST_MODIFIED }) },
      )
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      const response = await front.get(url('/v'))
      assert.equal(response.revalidated, true)
      assert.equal(origin.requests[1]?.headers['if-modified-since'], LAST_MODIFIED)
      assert.equal(origin.requests[1]?.headers['if-none-match'], undefined)
    })

    test('every revalidation is conditional: five in a row, all answered 304', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 1 }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      for (let i = 0; i < 5; i++) {
        clock.advance(2 * S)
        const response = await front.get(url('/v'))
        assert.equal(await response.text(), 'body v1', `revalidation ${i + 1}`)
        assert.equal(response.revalidated, true, `revalidation ${i + 1}`)
      }
      assert.equal(origin.count('/v'), 6)
      assert.deepEqual(
        origin.requests.map((r) => r.headers['if-none-match']),
        [undefined, '"v1"', '"v1"', '"v1"', '"v1"', '"v1"'],
      )
      // Fetch would add `Cache-Control: no-cache` and `Pragma: no-cache` to a conditional request.
      assert.deepEqual(
        origin.requests.map((r) => [r.headers['cache-control'], r.headers.pragma]),
        Array.from({ length: 6 }, () => [undefined, undefined]),
      )
    })

    test('a 304 renews the expiry: the next use within the new lifetime is a plain hit', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      await (await front.get(url('/v'))).text()
      clock.advance(30 * S)
      const hit = await front.get(url('/v'))
      assert.equal(hit.fromCache, true)
      assert.equal(hit.revalidated, false)
      assert.equal(origin.count('/v'), 2)
    })

    test('a 304 merges its header fields into the stored response', async () => {
      let version = 1
      const { front, clock, url } = await start(
        { expireAfter: 60 },
        {
          '/v': (req, res) => {
            res.setHeader('etag', '"e"')
            res.setHeader('x-served', String(version++))
            if (req.headers['if-none-match'] === '"e"') {
              res.statusCode = 304
              res.end()
              return
            }
            res.setHeader('content-type', 'text/plain')
            res.end('body')
          },
        },
      )
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      const revalidated = await front.get(url('/v'))
      assert.equal(revalidated.headers.get('x-served'), '2')
      assert.equal(revalidated.headers.get('content-type'), 'text/plain', 'fields the 304 did not send are kept')
      assert.equal(revalidated.headers.get('content-length'), '4')
      const hit = await front.get(url('/v'))
      assert.equal(hit.headers.get('x-served'), '2', 'the merged headers were stored')
      assert.equal(await hit.text(), 'body')
    })

    test('a 304 naming a strong tag that is not the stored one is not applied: the cache asks again without conditions', async () => {
      // `w/"v2"` is a strong tag (RFC 9110 §8.8.3: `W/` is case-sensitive), and not the stored `"v1"`.
      let n = 0
      const { front, clock, origin, url } = await start(
        { expireAfter: 60 },
        {
          '/v': (req, res) => {
            n++
            if (req.headers['if-none-match'] !== undefined) {
              res.statusCode = 304
              res.setHeader('etag', 'w/"v2"')
              res.end()
              return
            }
            res.setHeader('etag', n === 1 ? '"v1"' : 'w/"v2"')
            res.end(`body ${n}`)
          },
        },
      )
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      const response = await front.get(url('/v'))
      assert.equal(await response.text(), 'body 3', 'the unconditional retry answered')
      assert.equal(origin.count('/v'), 3)
    })

    test('a changed resource (200 to the conditional request) replaces the entry', async () => {
      let version = 'v1'
      const { front, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute({ version: () => version }) })
      await (await front.get(url('/v'))).text()
      version = 'v2'
      clock.advance(61 * S)
      const changed = await front.get(url('/v'))
      assert.equal(await changed.text(), 'body v2')
      assert.equal(changed.fromCache, false)
      assert.match(status(changed), /fwd=stale; fwd-status=200; stored/)
      const hit = await front.get(url('/v'))
      assert.equal(await hit.text(), 'body v2')
      assert.equal(hit.fromCache, true)
    })

    test('an expired entry without a validator is fetched anew, unconditionally', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 })
      await (await front.get(url('/a'))).text()
      clock.advance(61 * S)
      await (await front.get(url('/a'))).text()
      assert.equal(origin.count('/a'), 2)
      assert.equal(origin.requests[1]?.headers['if-none-match'], undefined)
      assert.equal(origin.requests[1]?.headers['if-modified-since'], undefined)
    })

    test('readOnly: a 304 serves the entry but stores nothing, so the next use revalidates again', async () => {
      const { front, origin, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      front.settings.readOnly = true
      clock.advance(61 * S)
      for (let i = 0; i < 2; i++) assert.equal((await front.get(url('/v'))).revalidated, true)
      assert.equal(origin.count('/v'), 3)
    })
  })

  describe('304 answers (test_304_not_modified)', () => {
    // [origin's second answer, an entry was stored first, the entry has expired, served from the cache]
    const rows: [number, boolean, boolean, boolean][] = [
      [200, false, false, false],
      [200, true, false, true],
      [200, true, true, false],
      [304, false, false, false],
      [304, true, false, true],
      [304, true, true, true],
    ]
    for (const [code, cacheHit, expired, fromCache] of rows) {
      test(`origin ${code}, ${cacheHit ? 'stored' : 'nothing stored'}${cacheHit ? (expired ? ', expired' : ', fresh') : ''} → fromCache ${fromCache}`, async () => {
        const { front, origin, clock, url } = await start({ expireAfter: 60 })
        if (cacheHit) await (await front.get(url('/e'))).text()
        if (expired) clock.advance(61 * S)
        origin.route('/e', (_req, res) => {
          res.statusCode = code
          res.end(code === 304 ? undefined : 'new')
        })
        const response = await front.get(url('/e'))
        await response.text()
        assert.equal(response.fromCache, fromCache)
      })
    }

    test("a 304 to the caller's own conditional request is passed to the caller", async () => {
      const { front, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      clock.advance(61 * S)
      const response = await front.get(url('/v'), { headers: { 'if-none-match': '"v1"' } })
      assert.equal(response.status, 304)
      assert.equal(response.revalidated, true)
    })
  })

  describe("the caller's own conditional requests (RFC 9111 §4.3.2)", () => {
    const rows: [string, Record<string, string>, number][] = [
      ['a matching If-None-Match', { 'if-none-match': '"v1"' }, 304],
      ['a weak If-None-Match (weak comparison)', { 'if-none-match': 'W/"v1"' }, 304],
      ['If-None-Match: *', { 'if-none-match': '*' }, 304],
      ['one of several tags', { 'if-none-match': '"v0", "v1"' }, 304],
      ['another tag', { 'if-none-match': '"v0"' }, 200],
      // RFC 9110 §8.8.3: the weakness indicator is case-sensitive; `w/"v1"` is an opaque-tag that never matches.
      ['a lower-case w/ (not a weak tag)', { 'if-none-match': 'w/"v1"' }, 200],
      ['If-Modified-Since at Last-Modified', { 'if-modified-since': LAST_MODIFIED }, 304],
      ['If-Modified-Since before Last-Modified', { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' }, 200],
      // RFC 9110 §13.1.3: a value that is not an HTTP-date is ignored (Date.parse would read "2099" as a year).
      ['If-Modified-Since that is not an HTTP-date', { 'if-modified-since': '2099' }, 200],
      [
        'a non-matching If-None-Match beats a matching If-Modified-Since',
        { 'if-none-match': '"v0"', 'if-modified-since': LAST_MODIFIED },
        200,
      ],
    ]
    for (const [what, headers, expected] of rows) {
      test(`${what} → ${expected} from a fresh entry, without the origin`, async () => {
        const { front, origin, url } = await start({}, { '/v': validatedRoute({ lastModified: LAST_MODIFIED }) })
        await (await front.get(url('/v'))).text()
        const response = await front.get(url('/v'), { headers })
        assert.equal(response.status, expected)
        assert.equal(response.fromCache, true)
        assert.equal(await response.text(), expected === 304 ? '' : 'body v1')
        if (expected === 304) {
          assert.equal(response.headers.get('etag'), '"v1"')
          assert.equal(response.headers.get('last-modified'), LAST_MODIFIED, 'a 304 keeps what guides cache updates')
          // RFC 9110 §15.4.5: no representation metadata beyond what it lists.
          assert.equal(response.headers.get('content-type'), null)
          assert.equal(response.headers.get('content-length'), null)
        }
        assert.equal(origin.count('/v'), 1)
      })
    }
  })

  describe('alwaysRevalidate and refresh', () => {
    test('alwaysRevalidate revalidates every use of a fresh entry that has a validator (test_always_revalidate)', async () => {
      const { front, origin, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      await (await front.get(url('/v'))).text()
      assert.equal((await front.get(url('/v'))).revalidated, false)
      front.settings.alwaysRevalidate = true
      for (let i = 0; i < 2; i++) {
        const response = await front.get(url('/v'))
        assert.equal(response.revalidated, true)
        assert.match(status(response), /fwd=request; fwd-status=304/)
      }
      assert.equal(origin.count('/v'), 3)
    })

    test('alwaysRevalidate serves an entry without a validator from the cache', async () => {
      const { front, origin, url } = await start({ alwaysRevalidate: true })
      await (await front.get(url('/a'))).text()
      assert.equal((await front.get(url('/a'))).fromCache, true)
      assert.equal(origin.count('/a'), 1)
    })

    test('alwaysRevalidate: a Last-Modified that is not an HTTP-date is no validator, so the entry is served', async () => {
      const { front, origin, url } = await start(
        { alwaysRevalidate: true },
        { '/a': route('a', { 'last-modified': 'yesterday' }) },
      )
      await (await front.get(url('/a'))).text()
      const response = await front.get(url('/a'))
      assert.equal(response.hit, true)
      assert.equal(origin.count('/a'), 1)
    })

    test('refresh sends a conditional request even for a fresh entry, and renews its expiry (test_request_refresh)', async () => {
      const { front, clock, url } = await start({ expireAfter: 60 }, { '/v': validatedRoute() })
      const first = await front.get(url('/v'))
      await first.text()
      clock.advance(10 * S)
      const refreshed = await front.get(url('/v'), { cacheOptions: { refresh: true } })
      assert.equal(refreshed.revalidated, true)
      const after = await front.get(url('/v'))
      assert.equal(after.revalidated, false)
      assert.ok((after.expires ?? 0) > (first.expires ?? 0))
    })

    test('refresh without a validator sends a plain request and stores the answer', async () => {
      const { front, origin, url } = await start({}, { '/n': route((n) => `body ${n}`) })
      await (await front.get(url('/n'))).text()
      const refreshed = await front.get(url('/n'), { cacheOptions: { refresh: true } })
      assert.equal(await refreshed.text(), 'body 2')
      assert.equal(origin.requests[1]?.headers['if-none-match'], undefined)
      assert.equal(await (await front.get(url('/n'))).text(), 'body 2')
    })
  })

  describe('HEAD and unsafe methods', () => {
    test('a HEAD request is answered from a stored GET, without a body', async () => {
      const { front, origin, url } = await start()
      await (await front.get(url('/a'))).text()
      const head = await front.get(url('/a'), { method: 'HEAD' })
      assert.equal(head.fromCache, true)
      assert.equal(head.status, 200)
      assert.equal(head.headers.get('content-type'), 'text/plain')
      assert.equal(await head.text(), '')
      assert.equal(origin.count('/a'), 1)
    })

    test('a successful POST invalidates the stored GET for its URL and its Location', async () => {
      const { front, origin, url } = await start(
        {},
        {
          '/items': (req, res) => {
            if (req.method === 'POST') {
              res.statusCode = 201
              res.setHeader('location', '/items/7')
            }
            res.end(`items ${origin.count('/items')}`)
          },
        },
      )
      await (await front.get(url('/items'))).text()
      await (await front.get(url('/items/7'))).text()
      assert.equal((await front.get(url('/items'))).fromCache, true)
      await (await front.get(url('/items'), { method: 'POST', body: 'x' })).text()
      const after = await front.get(url('/items'))
      assert.equal(after.fromCache, false)
      assert.equal(await after.text(), 'items 3')
      assert.equal((await front.get(url('/items/7'))).fromCache, false)
    })

    test('a failed POST invalidates nothing', async () => {
      const { front, url } = await start(
        {},
        {
          '/x': (req, res) => {
            res.statusCode = req.method === 'POST' ? 500 : 200
            res.end('x')
          },
        },
      )
      await (await front.get(url('/x'))).text()
      await (await front.get(url('/x'), { method: 'POST', body: 'x' })).text()
      assert.equal((await front.get(url('/x'))).fromCache, true)
    })
  })
})
