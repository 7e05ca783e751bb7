import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { forEachFront } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

const BODY = '0123456789'
const LAST_MODIFIED = new Date(Date.now() - 86_400_000).toUTCString()
const STORED = { 'cache-control': 'max-age=3600', etag: '"r"', 'last-modified': LAST_MODIFIED, 'content-type': 'text/plain' }

forEachFront('RFC 9110 §14, RFC 9111 §3.4 Range requests answered from a stored complete 200 (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/range/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  /** A path whose complete 200 is stored. */
  async function storedPath(): Promise<string> {
    const p = path()
    r.answer(p, { headers: STORED, body: BODY })
    await get(r, p)
    return p
  }
  const ranged = (p: string, range: string, more: Record<string, string> = {}) => get(r, p, { headers: { range, ...more } })

  describe('§14.1.2 single byte ranges: a 206 with Content-Range and Content-Length, from the cache', () => {
    for (const [range, body, contentRange] of [
      ['bytes=2-5', '2345', 'bytes 2-5/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=8-100', '89', 'bytes 8-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
      ['bytes=-20', BODY, 'bytes 0-9/10'],
      ['bytes=0-0', '0', 'bytes 0-0/10'],
    ]) {
      it(range, async () => {
        const p = await storedPath()
        const { response, text } = await ranged(p, range as string)
        assert.equal(response.status, 206)
        assert.equal(text, body)
        assert.equal(response.header('content-range'), contentRange)
        assert.equal(response.header('content-length'), String((body as string).length))
        assert.equal(response.header('content-type'), 'text/plain')
        assert.equal(response.hit, true)
        assert.equal(r.origin.count(p), 1)
      })
    }
  })

  it('§15.5.17 a range past the end: 416 with Content-Range: bytes */length', async () => {
    const p = await storedPath()
    const { response, text } = await ranged(p, 'bytes=10-')
    assert.equal(response.status, 416)
    assert.equal(text, '')
    assert.equal(response.header('content-range'), 'bytes */10')
    assert.equal(r.origin.count(p), 1)
  })

  describe('§13.1.5 If-Range', () => {
    it('a matching strong ETag or the exact Last-Modified: the range', async () => {
      const p = await storedPath()
      assert.equal((await ranged(p, 'bytes=0-1', { 'if-range': '"r"' })).response.status, 206)
      assert.equal((await ranged(p, 'bytes=0-1', { 'if-range': LAST_MODIFIED })).response.status, 206)
      assert.equal(r.origin.count(p), 1)
    })

    it('another ETag, a weak one or another date: the whole stored response, as a 200', async () => {
      const p = await storedPath()
      for (const ifRange of ['"other"', 'W/"r"', new Date(0).toUTCString()]) {
        const { response, text } = await ranged(p, 'bytes=0-1', { 'if-range': ifRange })
        assert.equal(response.status, 200, ifRange)
        assert.equal(text, BODY)
        assert.equal(response.header('content-range'), undefined)
      }
      assert.equal(r.origin.count(p), 1)
    })
  })

  describe('what goes to the origin, and is never stored', () => {
    it('several ranges', async () => {
      const p = await storedPath()
      await ranged(p, 'bytes=0-1,4-5')
      assert.equal(r.origin.count(p), 2)
    })

    it('a miss; an origin that ignores the range sends the whole 200, which is stored and answers a later GET', async () => {
      const p = path()
      r.answer(p, { headers: STORED, body: BODY })
      const first = await ranged(p, 'bytes=0-1')
      assert.equal(first.response.status, 200)
      const later = await get(r, p)
      assert.equal(later.response.hit, true)
      assert.equal(later.text, BODY)
      assert.equal(r.origin.count(p), 1)
    })

    it('a stale entry', async () => {
      const p = path()
      r.answer(p, { headers: { ...STORED, 'cache-control': 'max-age=1', age: '5' }, body: BODY })
      await get(r, p)
      await ranged(p, 'bytes=0-1')
      assert.equal(r.origin.count(p), 2)
    })

    it('an entry stored from a gzip response (its ranges would be of the coded bytes)', async () => {
      const p = path()
      const gzipped = gzipSync(BODY)
      r.origin.route(p, (_req, res) => {
        res.setHeader('cache-control', 'max-age=3600')
        res.setHeader('content-encoding', 'gzip')
        res.end(gzipped)
      })
      await get(r, p)
      await ranged(p, 'bytes=0-1')
      assert.equal(r.origin.count(p), 2)
    })

    it('the default mode (cacheControl: false) passes every Range request through', async () => {
      const s = await rig(front, { cacheControl: false, expireAfter: 3600 })
      try {
        s.answer('/p', { headers: STORED, body: BODY })
        await get(s, '/p')
        await get(s, '/p', { headers: { range: 'bytes=0-1' } })
        assert.equal(s.origin.count('/p'), 2)
      } finally {
        await s.close()
      }
    })
  })
})

/**
 * An origin that honours one-range requests (`bytes=a-b`, `bytes=a-`) with a 206, and `If-Range` by
 * its ETag (a 200 with the whole body when it does not match), as RFC 9110 §14 describes.
 */
function rangeOrigin(
  body: string,
  etag: string | undefined,
  headers: Record<string, string> = { 'cache-control': 'max-age=3600' },
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    if (etag) res.setHeader('etag', etag)
    const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    const ifRange = req.headers['if-range']
    if (!match || (ifRange !== undefined && ifRange !== etag)) return void res.end(body)
    const start = Number(match[1])
    const end = match[2] ? Math.min(Number(match[2]), body.length - 1) : body.length - 1
    res.statusCode = 206
    res.setHeader('content-range', `bytes ${start}-${end}/${body.length}`)
    res.end(body.slice(start, end + 1))
  }
}

forEachFront(
  'RFC 9111 §3.3-3.4 partial content: a stored piece (206) answers ranges it holds and is completed (cacheControl: true)',
  (front) => {
    let r: Rig
    let n = 0
    const path = () => `/piece/${++n}`
    before(async () => {
      r = await rig(front)
    })
    after(() => r.close())
    const ranged = (p: string, range: string) => get(r, p, { headers: { range } })

    it('a 206 is stored; a range within it is a hit, one beyond it goes to the origin', async () => {
      const p = path()
      r.origin.route(p, rangeOrigin(BODY, '"p"'))
      const first = await ranged(p, 'bytes=0-4')
      assert.equal(first.response.status, 206)
      const within = await ranged(p, 'bytes=1-3')
      assert.equal(within.response.hit, true)
      assert.equal(within.response.status, 206)
      assert.equal(within.text, '123')
      assert.equal(within.response.header('content-range'), 'bytes 1-3/10')
      assert.equal(within.response.header('content-length'), '3')
      assert.equal(r.origin.count(p), 1)
      const beyond = await ranged(p, 'bytes=3-7')
      assert.equal(beyond.response.hit, false)
      assert.equal(beyond.text, '34567')
      assert.equal(r.origin.count(p), 2)
    })

    it('a GET for the whole completes a piece with a strong ETag: only the rest is asked for, under If-Range, and the whole is stored', async () => {
      const p = path()
      r.origin.route(p, rangeOrigin(BODY, '"p"'))
      await ranged(p, 'bytes=0-3')
      const whole = await get(r, p)
      assert.equal(whole.response.status, 200)
      assert.equal(whole.text, BODY)
      assert.equal(whole.response.header('content-range'), undefined)
      const asked = r.origin.requests.filter((q) => q.path === p).at(-1)
      assert.equal(asked?.headers.range, 'bytes=4-')
      assert.equal(asked?.headers['if-range'], '"p"')
      const later = await get(r, p)
      assert.equal(later.response.hit, true)
      assert.equal(later.text, BODY)
      assert.equal(r.origin.count(p), 2)
    })

    it('the representation changed (If-Range does not match): the new whole 200 is passed on and stored', async () => {
      const p = path()
      let etag = '"old"'
      r.origin.route(p, (req, res) => rangeOrigin(etag === '"old"' ? BODY : 'abcdefghij', etag)(req, res))
      await ranged(p, 'bytes=0-3')
      etag = '"new"'
      const whole = await get(r, p)
      assert.equal(whole.text, 'abcdefghij')
      assert.equal((await get(r, p)).response.hit, true)
      assert.equal(r.origin.count(p), 2)
    })

    it('a piece without a strong ETag is never combined: a GET for the whole asks for the whole', async () => {
      const p = path()
      r.origin.route(p, rangeOrigin(BODY, 'W/"weak"'))
      await ranged(p, 'bytes=0-3')
      const whole = await get(r, p)
      assert.equal(whole.text, BODY)
      assert.equal(r.origin.requests.filter((q) => q.path === p).at(-1)?.headers.range, undefined)
      assert.equal(r.origin.count(p), 2)
    })

    it('a remainder that does not fit (another length) is not combined: the whole is asked for again', async () => {
      const p = path()
      let calls = 0
      r.origin.route(p, (req, res) => {
        calls++
        res.setHeader('cache-control', 'max-age=3600')
        res.setHeader('etag', '"p"')
        if (calls === 2) {
          res.statusCode = 206
          res.setHeader('content-range', 'bytes 4-11/12')
          return void res.end('456789AB')
        }
        rangeOrigin(BODY, '"p"', {})(req, res)
      })
      await ranged(p, 'bytes=0-3')
      const whole = await get(r, p)
      assert.equal(whole.response.status, 200)
      assert.equal(whole.text, BODY)
      assert.equal(r.origin.count(p), 3)
      assert.equal(r.origin.requests.filter((q) => q.path === p).at(-1)?.headers.range, undefined)
    })

    it('a piece whose body is shorter than its Content-Range holds only the bytes that arrived', async () => {
      const p = path()
      r.answer(p, { status: 206, headers: { 'cache-control': 'max-age=3600', 'content-range': 'bytes 4-9/10' }, body: '45678' })
      await ranged(p, 'bytes=4-9')
      const held = await ranged(p, 'bytes=5-8')
      assert.equal(held.response.hit, true)
      assert.equal(held.text, '5678')
      assert.equal((await ranged(p, 'bytes=5-9')).response.hit, false)
    })

    it('the very Range a piece was stored for gets the piece as the origin sent it, even one whose bytes cannot be placed', async () => {
      const p = path()
      // A suffix range answered with a body shorter than its Content-Range: where the bytes sit is unknown.
      r.answer(p, { status: 206, headers: { 'cache-control': 'max-age=3600', 'content-range': 'bytes 4-9/10' }, body: '01234' })
      await ranged(p, 'bytes=-5')
      const same = await ranged(p, 'bytes=-5')
      assert.equal(same.response.hit, true)
      assert.equal(same.response.fromCache, true)
      assert.equal(same.response.status, 206)
      assert.equal(same.response.header('content-range'), 'bytes 4-9/10')
      assert.equal(same.text, '01234')
      assert.equal(r.origin.count(p), 1)
      // Another range that needs a byte it cannot place goes to the origin.
      assert.equal((await ranged(p, 'bytes=-1')).response.hit, false)
      assert.equal(r.origin.count(p), 2)
    })

    it('a HEAD or a plain GET never gets a stored piece (without a strong ETag); the whole 200 replaces it', async () => {
      const p = path()
      r.origin.route(p, rangeOrigin(BODY, undefined))
      await ranged(p, 'bytes=2-3')
      const head = await get(r, p, { method: 'HEAD' })
      assert.equal(head.response.hit, false)
      const whole = await get(r, p)
      assert.equal(whole.text, BODY)
      assert.equal(whole.response.status, 200)
      assert.equal((await get(r, p)).response.hit, true)
    })
  },
)
