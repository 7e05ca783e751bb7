import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FETCH, forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig, stored } from './harness.js'

forEachFront('RFC 9111 HEAD, status codes, ranges and stored fields (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/hs/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  describe('HEAD (RFC 9110 §9.3.2, RFC 9111 §4.3.5)', () => {
    it('answers a HEAD from a fresh stored GET response, without a body', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600', 'x-a': '1' }, body: 'hello' })
      await get(r, p)
      const { response, text } = await get(r, p, { method: 'HEAD' })
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.fromCache, true)
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('x-a'), '1')
      assert.equal(response.headers.get('content-length'), '5', 'the length of the GET body')
      assert.equal(text, '')
    })

    it('sends a HEAD to the origin when the stored GET response is stale', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=1', age: '5' } })
      await get(r, p)
      await get(r, p, { method: 'HEAD' })
      assert.equal(r.origin.requests.at(-1)?.method, 'HEAD')
    })

    it('a 200 to HEAD with matching validators updates the stored GET response and its freshness', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"h"', 'template-a': '1' }, body: 'body' },
        { headers: { 'cache-control': 'max-age=3600', etag: '"h"', 'template-a': '2', age: '100' } },
      )
      await get(r, p)
      const head = await get(r, p, { method: 'HEAD' })
      assert.equal(head.response.headers.get('template-a'), '2')
      const after = await get(r, p)
      assert.equal(r.origin.count(p), 2)
      assert.equal(after.response.headers.get('template-a'), '2')
      // RFC 9111 §4.2.3: the age counts from the HEAD response's Age now.
      assert.ok(Number(after.response.headers.get('age')) >= 100, `Age ${after.response.headers.get('age')}`)
      assert.equal(after.text, 'body')
    })

    it('a 200 to HEAD keeps stored fields it does not carry', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"k"', 'template-a': '1' } },
        { headers: { 'cache-control': 'max-age=3600' } },
      )
      await get(r, p)
      await get(r, p, { method: 'HEAD' })
      const { response } = await get(r, p)
      assert.equal(response.headers.get('template-a'), '1')
      assert.equal(r.origin.count(p), 2)
    })

    it('a 200 to HEAD with another ETag leaves the stored GET response stale', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"old"' }, body: 'old' },
        { headers: { 'cache-control': 'max-age=3600', etag: '"new"' } },
        { headers: { 'cache-control': 'max-age=3600', etag: '"new"' }, body: 'new' },
      )
      await get(r, p)
      await get(r, p, { method: 'HEAD' })
      assert.equal((await get(r, p)).text, 'new')
    })
  })

  describe('status codes (RFC 9111 §3, RFC 9110 §15.1)', () => {
    for (const status of [200, 203, 204, 300, 301, 302, 303, 307, 308, 400, 404, 405, 410, 414, 500, 501, 502, 503, 504, 599]) {
      it(`reuses a fresh ${status} with explicit freshness, and not once stale`, async () => {
        const fresh = path()
        r.answer(fresh, { status, headers: { 'cache-control': 'max-age=3600', location: '/elsewhere' } })
        const first = await get(r, fresh, { redirect: 'manual' })
        const second = await get(r, fresh, { redirect: 'manual' })
        assert.equal(second.response.status, status)
        assert.equal(second.text, first.text)
        assert.equal(r.origin.count(fresh), 1)
        const stale = path()
        r.answer(stale, { status, headers: { expires: httpDate(-5000), date: httpDate(), location: '/elsewhere' } })
        await get(r, stale, { redirect: 'manual' })
        await get(r, stale, { redirect: 'manual' })
        assert.equal(r.origin.count(stale), 2)
      })
    }
  })

  describe('statuses without content (RFC 9110 §6.4.1, §15.3.6)', () => {
    it('serves a stored 205 without content, even when the origin sent some', async () => {
      const p = path()
      // The harness's origin writes a body after a 205, as a misbehaving server would.
      r.answer(p, { status: 205, headers: { 'cache-control': 'max-age=3600' } })
      await get(r, p)
      const { response, text } = await get(r, p)
      assert.equal(response.fromCache, true)
      assert.equal(response.status, 205)
      assert.equal(text, '')
      assert.equal(r.origin.count(p), 1)
    })
  })

  describe('ranges (RFC 9111 §3.3, RFC 9110 §14)', () => {
    it('passes a Range request for what is not stored through, and never stores its 206', async () => {
      const p = path()
      r.answer(p, (req) =>
        req.headers.range
          ? { status: 206, headers: { 'cache-control': 'max-age=3600', 'content-range': 'bytes 4-9/10' }, body: '456789' }
          : { headers: { 'cache-control': 'max-age=3600' }, body: '0123456789' },
      )
      const part = await get(r, p, { headers: { range: 'bytes=-6' } })
      assert.equal(part.response.status, 206)
      const whole = await get(r, p)
      assert.equal(whole.response.status, 200)
      assert.equal(whole.text, '0123456789')
      // Once the complete 200 is stored, the range comes from it (range.test.ts).
      const again = await get(r, p, { headers: { range: 'bytes=-6' } })
      assert.equal(again.response.status, 206)
      assert.equal(again.text, '456789')
      assert.equal(r.origin.count(p), 2)
    })

    it('never stores a 206 that answers a request without Range', async () => {
      const p = path()
      r.answer(p, { status: 206, headers: { 'cache-control': 'max-age=3600', 'content-range': 'bytes 0-1/10' }, body: '01' })
      await get(r, p)
      await get(r, p)
      assert.equal(r.origin.count(p), 2)
    })
  })

  describe('stored header fields (§3.1)', () => {
    it('does not store Connection or the fields it lists', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600', connection: 'a, b', a: '1', b: '2', c: '3' } })
      await get(r, p)
      const { response } = await get(r, p)
      assert.equal(response.fromCache, true)
      assert.equal(response.headers.get('a'), null)
      assert.equal(response.headers.get('b'), null)
      assert.equal(response.headers.get('connection'), null)
      assert.equal(response.headers.get('c'), '3')
    })

    it('never stores hop-by-hop fields or the fields Connection lists (§3.1)', async () => {
      const p = path()
      r.answer(p, {
        headers: { 'cache-control': 'max-age=3600', connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'x-kept': 'yes' },
      })
      await get(r, p)
      const names = [...((await stored(r, p))?.headers.keys() ?? [])]
      assert.ok(names.includes('x-kept'), `stored: ${names.join(', ')}`)
      for (const name of ['connection', 'keep-alive', 'x-hop', 'transfer-encoding'])
        assert.ok(!names.includes(name), `${name} stored`)
      const { response } = await get(r, p)
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.headers.get('x-hop'), null)
    })

    it('stores end-to-end fields as received', async () => {
      const p = path()
      r.answer(p, {
        headers: {
          'cache-control': 'max-age=3600',
          'x-frame-options': 'deny',
          'content-type': 'text/plain',
          'www-authenticate': 'Basic',
        },
      })
      await get(r, p)
      const { response } = await get(r, p)
      assert.equal(response.hit, true, 'served from the cache')
      assert.equal(r.origin.count(p), 1)
      assert.equal(response.headers.get('x-frame-options'), 'deny')
      assert.equal(response.headers.get('content-type'), 'text/plain')
      assert.equal(response.headers.get('www-authenticate'), 'Basic')
    })

    it('keeps different query strings apart, and equal ones together', async () => {
      const p = path()
      r.answer(p, { headers: { 'cache-control': 'max-age=3600' } })
      await get(r, `${p}?test=1`)
      await get(r, `${p}?test=2`)
      await get(r, `${p}?test=1`)
      assert.equal(r.origin.requests.filter((q) => q.path.startsWith(p)).length, 2)
    })
  })
})

describe('RFC 9111 redirects fetch follows (cacheControl: true) [fetch only]', () => {
  let r: Rig
  let n = 0
  const path = () => `/hs-redirect/${++n}`
  before(async () => {
    r = await rig(FETCH)
  })
  after(() => r.close())

  it('never stores the end of a followed redirect under the original URL', async () => {
    const p = path()
    r.answer(p, { status: 302, headers: { location: `${p}/target` } })
    r.answer(`${p}/target`, { headers: { 'cache-control': 'max-age=3600' }, body: 'target' })
    assert.equal((await get(r, p)).text, 'target')
    await get(r, p)
    assert.equal(r.origin.count(p), 2)
  })
})
