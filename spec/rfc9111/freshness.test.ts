import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from './harness.js'

/** Two fetches of a path whose answers are scripted, `age` ms apart: whether the second one reached the origin. */
async function reused(r: Rig, path: string, headers: Record<string, string | string[]>, age = 0): Promise<boolean> {
  r.answer(path, { headers })
  await get(r, path)
  r.clock.advance(age)
  await get(r, path)
  return r.origin.count(path) === 1
}

forEachFront('RFC 9111 §4.2 freshness (cacheControl: true, private cache)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/fresh/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  describe('§5.2.2.1 max-age', () => {
    it('reuses a response with a positive max-age', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600' }), true)
    })
    it('does not reuse max-age=0', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=0' }), false)
    })
    it('stops reusing once max-age has passed', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=1' }, 1100), false)
    })
    it('matches the directive name case-insensitively (MaX-AgE)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'MaX-AgE=3600' }), true)
    })
    it('accepts a quoted value (max-age="3600")', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age="3600"' }), true)
    })
    it('ignores unknown directives beside it (§5.2.3)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'foobar, max-age=3600' }), true)
    })
    it('caps an overflowing value at 2^31 instead of failing (§1.2.2)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=99999999999' }), true)
    })
    it('ignores the text "max-age" inside a quoted string of another directive', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'extension="max-age=3600", max-age=0' }), false)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=0, extension="max-age=3600"' }), false)
    })
    it('uses the first of two max-age directives, on one line or two (§4.2.1)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600, max-age=0' }), true)
      assert.equal(await reused(r, path(), { 'cache-control': ['max-age=3600', 'max-age=0'] }), true)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=0, max-age=3600' }), false)
    })
    for (const bad of [
      'max-age=a100',
      'max-age=100a',
      'max-age=-100',
      'max-age=3600.5',
      "max-age='3600'",
      'max-age =3600',
      'max-age= 3600',
      'max-age=',
    ]) {
      it(`treats a malformed value as stale: ${bad} (§4.2.1)`, async () => {
        assert.equal(await reused(r, path(), { 'cache-control': bad }), false)
      })
    }
  })

  describe('§5.2.2.10 s-maxage is for shared caches', () => {
    it('does not let s-maxage extend a shorter max-age', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 's-maxage=3600, max-age=0' }), false)
      assert.equal(await reused(r, path(), { 'cache-control': ['s-maxage=3600', 'max-age=0'] }), false)
    })
    it('gives no freshness on its own', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 's-maxage=3600' }), false)
    })
  })

  describe('§5.3 Expires, against Date', () => {
    it('reuses a response with a future Expires', async () => {
      assert.equal(await reused(r, path(), { expires: httpDate(3600), date: httpDate() }), true)
    })
    it('does not reuse a past or present Expires', async () => {
      assert.equal(await reused(r, path(), { expires: httpDate(-3600), date: httpDate() }), false)
      assert.equal(await reused(r, path(), { expires: httpDate(), date: httpDate() }), false)
    })
    it('measures Expires against Date, not the local clock (Expires older than a future Date)', async () => {
      assert.equal(await reused(r, path(), { expires: httpDate(300), date: httpDate(400) }), false)
    })
    it('lets max-age win over Expires, both ways (§5.3)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600', expires: httpDate(-3600), date: httpDate() }), true)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=0', expires: httpDate(3600), date: httpDate() }), false)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600', expires: '0', date: httpDate() }), true)
    })
    it('accepts the obsolete rfc850 and asctime formats (RFC 9110 §5.6.7)', async () => {
      const future = new Date(Date.now() + 3600_000)
      const [wd, d, mon, y, t] = future.toUTCString().replace(',', '').split(' ') as [string, string, string, string, string]
      const long = {
        Mon: 'Monday',
        Tue: 'Tuesday',
        Wed: 'Wednesday',
        Thu: 'Thursday',
        Fri: 'Friday',
        Sat: 'Saturday',
        Sun: 'Sunday',
      }[wd]
      const rfc850 = `${long}, ${d}-${mon}-${y.slice(2)} ${t} GMT`
      const asctime = `${wd} ${mon} ${String(Number(d)).padStart(2, ' ')} ${t} ${y}`
      assert.equal(await reused(r, path(), { expires: rfc850, date: httpDate() }), true)
      assert.equal(await reused(r, path(), { expires: asctime, date: httpDate() }), true)
    })
    it('compares month and weekday names case-insensitively', async () => {
      assert.equal(await reused(r, path(), { expires: httpDate(3600).toUpperCase(), date: httpDate() }), true)
    })
    for (const [what, bad] of [
      ['0', '0'],
      ['-1', '-1'],
      ['a bare year', '2099'],
      ['UTC instead of GMT', httpDate(3600).replace('GMT', 'UTC')],
      ['a two-digit year', 'Thu, 18 Aug 50 02:01:18 GMT'],
      ['a missing comma', httpDate(3600).replace(',', '')],
      ['dashes in the date', 'Thu, 18-Aug-2050 02:01:18 GMT'],
      ['periods in the time', 'Thu, 18 Aug 2050 02.01.18 GMT'],
      ['a one-digit hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
      ['a day the calendar lacks', 'Fri, 31 Feb 2050 02:01:18 GMT'],
    ] as const) {
      it(`treats an invalid Expires (${what}) as already expired (§5.3)`, async () => {
        assert.equal(await reused(r, path(), { expires: bad, date: httpDate() }), false)
      })
    }
    it('uses the first of two Expires lines (§4.2.1)', async () => {
      assert.equal(await reused(r, path(), { expires: [httpDate(3600), httpDate(-3600)], date: httpDate() }), true)
    })
    it('measures Expires from the arrival time when Date is invalid (RFC 9110 §6.6.1)', async () => {
      assert.equal(await reused(r, path(), { expires: httpDate(3600), date: 'foo' }), true)
    })
  })

  describe('§4.2.3 Age and the current age', () => {
    it('does not reuse a response whose Age exceeds its max-age', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=10', age: '15', date: httpDate() }), false)
    })
    it('does not reuse a response whose Age exceeds Expires − Date (Date slow or fast)', async () => {
      assert.equal(await reused(r, path(), { date: httpDate(-10), expires: httpDate(10), age: '25' }), false)
      assert.equal(await reused(r, path(), { date: httpDate(10), expires: httpDate(20), age: '15' }), false)
    })
    it('counts the apparent age from a Date in the past', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=60', date: httpDate(-120) }), false)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=600', date: httpDate(-120) }), true)
    })
    it('adds the response delay to the Age received', async () => {
      const p = path()
      let first = true
      r.origin.route(p, async (_req, res) => {
        // Age 9 of max-age=10, and 1.2 s between request and answer: stale on arrival only if the delay counts.
        if (first) r.clock.advance(1200)
        first = false
        res.setHeader('cache-control', 'max-age=10')
        res.setHeader('age', '9')
        res.end('slow')
      })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 2)
      // The control: the same answer without the delay is reused.
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=10', age: '9', date: httpDate() }), true)
    })
    for (const bad of ['abc', '-7200', '7200.0']) {
      it(`ignores an invalid Age (${bad}) (§5.1)`, async () => {
        assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600', age: bad, date: httpDate() }), true)
      })
    }
    it('uses the first member of a list-valued Age (§5.1)', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600', age: '0, 7200', date: httpDate() }), true)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600', age: ['7200', '0'], date: httpDate() }), false)
    })
    it('sends an Age that includes the time the response spent in the cache (§5.1)', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=600', age: '30', date: httpDate() } })
      await get(r, p)
      r.clock.advance(1100)
      const { response } = await get(r, p)
      assert.equal(response.hit, true)
      assert.ok(Number(response.headers.get('age')) >= 31, `Age ${response.headers.get('age')}`)
    })
    it('keeps the Date the origin sent on a stored response', async () => {
      const p = path()
      const date = httpDate(-5)
      r.answer(p, { headers: { 'cache-control': 'max-age=600', date } })
      await get(r, p)
      const { response } = await get(r, p)
      assert.equal(response.hit, true, 'served from the cache')
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.headers.get('date'), date)
    })
  })

  describe('§4.2.2 heuristic freshness', () => {
    it('reuses a 200 with an old Last-Modified and no explicit freshness', async () => {
      assert.equal(await reused(r, path(), { 'last-modified': httpDate(-86400), date: httpDate() }), true)
    })
    it('does not reuse a response with neither freshness nor a validator', async () => {
      assert.equal(await reused(r, path(), {}), false)
    })
    it('gives a Last-Modified in the future no heuristic freshness', async () => {
      assert.equal(await reused(r, path(), { 'last-modified': httpDate(3600), date: httpDate() }), false)
    })
    it('prefers explicit freshness to heuristics (max-age=0 with an old Last-Modified)', async () => {
      assert.equal(
        await reused(r, path(), { 'cache-control': 'max-age=0', 'last-modified': httpDate(-86400), date: httpDate() }),
        false,
      )
    })
    for (const status of [200, 203, 204, 404, 405, 410, 414, 501]) {
      it(`applies heuristics to a ${status} (heuristically cacheable, RFC 9110 §15.1)`, async () => {
        const p = path()
        r.answer(p, { status, headers: { 'last-modified': httpDate(-86400), date: httpDate() } })
        const first = await get(r, p)
        const second = await get(r, p)
        assert.equal(second.response.status, status)
        assert.equal(second.text, first.text)
        assert.equal(r.origin.count(p), 1)
      })
    }
    for (const status of [201, 202, 403, 502, 503, 504, 599]) {
      it(`does not apply heuristics to a ${status}`, async () => {
        const p = path()
        r.answer(p, { status, headers: { 'last-modified': httpDate(-86400), date: httpDate() } })
        await get(r, p)
        await get(r, p)
        assert.equal(r.origin.count(p), 2)
      })
    }
    it('applies heuristics to any status marked Cache-Control: public (§3)', async () => {
      const p = path()
      r.answer(p, { status: 599, headers: { 'cache-control': 'public', 'last-modified': httpDate(-86400), date: httpDate() } })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 1)
    })
  })

  describe('immutable (RFC 8246)', () => {
    it('reuses a fresh immutable response', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=3600, immutable' }), true)
    })
    it('gives no freshness of its own: a stale immutable response is not reused', async () => {
      assert.equal(await reused(r, path(), { 'cache-control': 'immutable' }), false)
      assert.equal(await reused(r, path(), { 'cache-control': 'max-age=0, immutable', etag: '"i"' }), false)
    })
  })
})
