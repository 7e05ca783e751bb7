import assert from 'node:assert/strict'
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

    it('a miss, and a plain GET after it is still a miss', async () => {
      const p = path()
      r.answer(p, { headers: STORED, body: BODY })
      await ranged(p, 'bytes=0-1')
      assert.equal((await get(r, p)).response.hit, false)
      assert.equal(r.origin.count(p), 2)
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
