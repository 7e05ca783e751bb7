import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §5.2 Cache-Control directives (cacheControl: true, private cache)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/cc/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  describe('§5.2.2 response directives', () => {
    it('§5.2.2.5 no-store: never stored, even with max-age and Expires, in any case', async () => {
      for (const cc of ['no-store', 'No-StOrE', 'max-age=10000, no-store', 'foo="bar, baz", no-store']) {
        const p = path()
        r.answer(p, { headers: { 'cache-control': cc, expires: httpDate(10000), date: httpDate() } })
        await get(r, p)
        await get(r, p)
        assert.equal(r.origin.count(p), 2, cc)
      }
      assert.equal(await r.front.cache.count(), 0)
    })

    it('§5.2.2.4 no-cache: stored, but revalidated before every use (ETag → 304 → stored body)', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=10000, no-cache', etag: '"v1"' }, body: 'one' }, (req) =>
        req.headers['if-none-match'] === '"v1"' ? { status: 304, headers: { etag: '"v1"' } } : { body: 'changed' },
      )
      await get(r, p)
      const second = await get(r, p)
      assert.equal(r.origin.count(p), 2)
      assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], '"v1"')
      assert.equal(second.response.status, 200)
      assert.equal(second.text, 'one')
      assert.equal(second.response.fromCache, true)
    })

    it('§5.2.2.4 no-cache without a validator: every use goes to the origin', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=10000, No-CaChE' } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.2.4 no-cache="a, b" (quoted field list): reused, without the listed fields', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': ['no-cache="a, B"', 'max-age=3600'], a: '1', b: '2', c: '3' } })
      await get(r, p)
      const { response } = await get(r, p)
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.headers.get('a'), null)
      assert.equal(response.headers.get('b'), null)
      assert.equal(response.headers.get('c'), '3')
    })

    it('§5.2.2.2 must-revalidate: a fresh response is reused', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=10000, must-revalidate', etag: '"m"' } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 1)
    })

    it('§5.2.2.2 must-revalidate: a stale response is revalidated, never served stale on error', async () => {
      const s = await rig(front, { staleIfError: true, staleWhileRevalidate: true })
      try {
        const p = '/must-revalidate'
        s.answer(p, { headers: { 'cache-control': 'max-age=1, must-revalidate', age: '5', etag: '"m"' } }, { status: 503 })
        await get(s, p)
        const second = await get(s, p)
        assert.equal(second.response.status, 503)
        assert.equal(s.origin.requests.at(-1)?.headers['if-none-match'], '"m"')
      } finally {
        await s.close()
      }
    })

    it('§5.2.2.8 proxy-revalidate: a fresh response is reused; a stale one is not served on error', async () => {
      const s = await rig(front, { staleIfError: true })
      try {
        s.answer('/fresh', { headers: { 'cache-control': 'max-age=3600, proxy-revalidate' } })
        await get(s, '/fresh')
        await get(s, '/fresh')
        assert.equal(s.origin.count('/fresh'), 1)
        s.answer(
          '/stale',
          { headers: { 'cache-control': 'max-age=1, proxy-revalidate', age: '5', etag: '"p"' } },
          { status: 503 },
        )
        await get(s, '/stale')
        assert.equal((await get(s, '/stale')).response.status, 503)
      } finally {
        await s.close()
      }
    })

    it('§5.2.2.7 private: a private cache stores and reuses it', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'private, max-age=3600' } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 1)
    })

    it('§5.2.2.9 public: reused with explicit freshness', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'public, max-age=3600' } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 1)
    })

    it('RFC 5861 §3 stale-while-revalidate: serves the stale response at once and refreshes it in the background', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1, stale-while-revalidate=3600', age: '2', etag: '"a"' }, body: 'old' },
        { headers: { 'cache-control': 'max-age=3600', etag: '"b"' }, body: 'new' },
      )
      await get(r, p)
      const stale = await get(r, p)
      assert.equal(stale.text, 'old')
      assert.equal(stale.response.fromCache, true)
      await r.front.settled() // the background refresh, stored
      assert.equal(r.origin.count(p), 2)
      const fresh = await get(r, p)
      assert.equal(fresh.text, 'new')
      assert.equal(fresh.response.headers.get('etag'), '"b"')
      assert.equal(r.origin.count(p), 2)
    })

    it('RFC 5861 §3 stale-while-revalidate: past its window the response is revalidated first', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1, stale-while-revalidate=1', age: '5', etag: '"a"' }, body: 'old' },
        { body: 'new' },
      )
      await get(r, p)
      assert.equal((await get(r, p)).text, 'new')
    })

    it('RFC 5861 §4 stale-if-error: a stale response is served when the origin answers 500', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1, stale-if-error=3600', age: '5' }, body: 'kept' },
        { status: 500, body: 'boom' },
      )
      await get(r, p)
      const second = await get(r, p)
      assert.equal(second.response.status, 200)
      assert.equal(second.text, 'kept')
      assert.equal(second.response.stale, true)
    })

    it('RFC 5861 §4 stale-if-error: a stale response is served when the connection fails', async () => {
      const p = path()
      let calls = 0
      r.origin.route(p, (req, res) => {
        if (calls++ > 0) return void req.socket.destroy()
        res.setHeader('cache-control', 'max-age=1, stale-if-error=3600')
        res.setHeader('age', '5')
        res.end('kept')
      })
      await get(r, p)
      assert.equal((await get(r, p)).text, 'kept')
    })

    it('RFC 5861 §4 stale-if-error: not past its window', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1, stale-if-error=1', age: '5' } }, { status: 500 })
      await get(r, p)
      assert.equal((await get(r, p)).response.status, 500)
    })

    it('§4.2.4 a stale response is not served on error without permission', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"x"' } }, { status: 503 })
      await get(r, p)
      assert.equal((await get(r, p)).response.status, 503)
    })
  })

  describe('§5.2.1 request directives', () => {
    async function stored(cc: Record<string, string>): Promise<string> {
      const p = path()
      r.answer(p, (req) =>
        req.headers['if-none-match'] ? { status: 304, headers: { etag: '"r"' } } : { headers: { etag: '"r"', ...cc } },
      )
      await get(r, p)
      return p
    }

    it('§5.2.1.1 max-age=0: the stored response is validated first', async () => {
      const p = await stored({ 'cache-control': 'max-age=3600' })
      await get(r, p, { headers: { 'cache-control': 'max-age=0' } })
      assert.equal(r.origin.count(p), 2)
      assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], '"r"')
    })

    it('§5.2.1.1 max-age: a response older than it is not used (Age 1800 > 600)', async () => {
      const p = await stored({ 'cache-control': 'max-age=3600', age: '1800' })
      await get(r, p, { headers: { 'cache-control': 'max-age=600' } })
      assert.equal(r.origin.count(p), 2)
      await get(r, p, { headers: { 'cache-control': 'max-age=1801' } })
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.1.2 max-stale: a stale response within the limit is used', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1500', age: '2000', etag: '"s"' } })
      await get(r, p)
      const { response } = await get(r, p, { headers: { 'cache-control': 'max-stale=1000' } })
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.fromCache, true)
      await get(r, p, { headers: { 'cache-control': 'max-stale=100' } })
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.1.2 a bare max-stale accepts any staleness', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1', age: '99999', etag: '"s"' } })
      await get(r, p)
      await get(r, p, { headers: { 'cache-control': 'max-stale' } })
      assert.equal(r.origin.count(p), 1)
    })

    it("§5.2.2.2 max-stale never overrides the response's must-revalidate or no-cache", async () => {
      for (const cc of ['max-age=1, must-revalidate', 'max-age=1, no-cache']) {
        const p = path()
        r.answer(p, { headers: { 'cache-control': cc, age: '5', etag: '"s"' } })
        await get(r, p)
        await get(r, p, { headers: { 'cache-control': 'max-stale=1000' } })
        assert.equal(r.origin.count(p), 2, cc)
      }
    })

    it('§5.2.1.3 min-fresh: a response fresh for less than that is not used', async () => {
      const p = await stored({ 'cache-control': 'max-age=1500' })
      await get(r, p, { headers: { 'cache-control': 'min-fresh=2000' } })
      assert.equal(r.origin.count(p), 2)
      await get(r, p, { headers: { 'cache-control': 'min-fresh=60' } })
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.1.3 min-fresh counts the Age of the stored response', async () => {
      const p = await stored({ 'cache-control': 'max-age=1500', age: '1000' })
      await get(r, p, { headers: { 'cache-control': 'min-fresh=1000' } })
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.1.4 no-cache: a fresh stored response is validated (If-None-Match) before use', async () => {
      const p = await stored({ 'cache-control': 'max-age=3600' })
      const { response } = await get(r, p, { headers: { 'cache-control': 'no-cache' } })
      assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], '"r"')
      assert.equal(response.revalidated, true)
    })

    it('§5.2.1.4 no-cache validates with If-Modified-Since when the response has Last-Modified only', async () => {
      const p = path()
      const lm = httpDate(-10000)
      r.answer(p, { headers: { 'cache-control': 'max-age=3600', 'last-modified': lm, date: httpDate() } })
      await get(r, p)
      await get(r, p, { headers: { 'cache-control': 'no-cache' } })
      assert.equal(r.origin.requests.at(-1)?.headers['if-modified-since'], lm)
    })

    it('§5.4 Pragma: no-cache acts as request no-cache', async () => {
      const p = await stored({ 'cache-control': 'max-age=3600' })
      await get(r, p, { headers: { pragma: 'no-cache' } })
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.4 a response Pragma does not affect freshness', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600', pragma: 'no-cache' } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 1)
    })

    it('§5.2.1.5 no-store: the stored response is not used and the new one is not stored', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=3600' }, body: 'a' },
        { headers: { 'cache-control': 'max-age=3600' }, body: 'b' },
      )
      await get(r, p)
      const bypassed = await get(r, p, { headers: { 'cache-control': 'no-store' } })
      assert.equal(bypassed.text, 'b')
      assert.equal((await get(r, p)).text, 'a')
      assert.equal(r.origin.count(p), 2)
    })

    it('§5.2.1.7 only-if-cached: 504 without a stored response, the stored one otherwise', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600' } })
      const miss = await get(r, p, { headers: { 'cache-control': 'only-if-cached' } })
      assert.equal(miss.response.status, 504)
      assert.equal(r.origin.count(p), 0)
      await get(r, p)
      const hit = await get(r, p, { headers: { 'cache-control': 'only-if-cached' } })
      assert.equal(hit.response.status, 200)
      assert.equal(r.origin.count(p), 1)
    })

    it("§5.2.1.7 only-if-cached holds even when the request's cacheOptions say onlyIfCached: false", async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600' } })
      const init = { headers: { 'cache-control': 'only-if-cached' }, cacheOptions: { onlyIfCached: false } }
      assert.equal((await get(r, p, init)).response.status, 504)
      assert.equal(r.origin.count(p), 0, 'the origin was not asked')
    })

    it('RFC 5861 §4 request stale-if-error: within its window a stale response replaces a 500', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"e"' }, body: 'kept' }, { status: 500 })
      await get(r, p)
      assert.equal((await get(r, p, { headers: { 'cache-control': 'stale-if-error=3600' } })).text, 'kept')
      assert.equal((await get(r, p, { headers: { 'cache-control': 'stale-if-error=1' } })).response.status, 500)
    })

    it('ignores unknown request directives', async () => {
      const p = await stored({ 'cache-control': 'max-age=3600' })
      await get(r, p, { headers: { 'cache-control': 'foo, bar="max-age=0"' } })
      assert.equal(r.origin.count(p), 1)
    })
  })
})
