import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { cacheStatusParams, get, type Rig, rig } from './harness.js'

/** Answers the first request with `headers`, then drops every later connection without answering. */
function thenGone(headers: Record<string, string>) {
  let calls = 0
  return (req: IncomingMessage, res: ServerResponse) => {
    if (calls++ > 0) return void req.socket.destroy()
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    res.end('stored')
  }
}

forEachFront('RFC 9111 §4.2.4 a disconnected cache (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/gone/${++n}`
  before(async () => {
    r = await rig(front, { staleIfError: true })
  })
  after(() => r.close())

  describe('an entry that must not be reused unvalidated: a generated 504, not the entry, not an error', () => {
    const cases: [string, Record<string, string>][] = [
      ['§5.2.2.2 must-revalidate (stale)', { 'cache-control': 'max-age=1, must-revalidate', age: '5', etag: '"m"' }],
      ['§5.2.2.4 no-cache (fresh)', { 'cache-control': 'max-age=3600, no-cache', etag: '"n"' }],
      [
        '§5.2.2.4 no-cache with Last-Modified only',
        { 'cache-control': 'max-age=3600, no-cache', 'last-modified': new Date(0).toUTCString() },
      ],
      [
        '§5.2.2.4 no-cache, stale on arrival, with only a Date (revalidated with that date)',
        { 'cache-control': 'max-age=2, no-cache', age: '5', date: new Date().toUTCString() },
      ],
      [
        "§4.2.4 must-revalidate with the response's own stale-if-error",
        { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=3600', age: '5', etag: '"e"' },
      ],
    ]
    for (const [what, headers] of cases) {
      it(what, async () => {
        const p = path()
        r.origin.route(p, thenGone(headers))
        await get(r, p)
        const { response, text } = await get(r, p)
        assert.equal(response.status, 504)
        assert.equal(text, 'Gateway Timeout')
        assert.equal(response.fromCache, false)
        const status = cacheStatusParams(response.cacheStatus)
        assert.equal(status.get('detail'), 'revalidation-failed')
        assert.ok(status.has('fwd'), String(response.cacheStatus))
        assert.equal(r.origin.count(p), 2)
      })
    }
  })

  it('§4.2.4 where stale reuse is allowed, stale-if-error still serves the entry', async () => {
    const p = path()
    r.origin.route(p, thenGone({ 'cache-control': 'max-age=1', age: '5', etag: '"s"' }))
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(response.status, 200)
    assert.equal(text, 'stored')
    assert.equal(response.stale, true)
  })

  it('§4.2.4 stale-if-error=N of the response itself does not lift must-revalidate on a 5xx', async () => {
    const p = path()
    r.answer(
      p,
      { headers: { 'cache-control': 'max-age=1, must-revalidate, stale-if-error=3600', age: '5' } },
      { status: 500, body: 'boom' },
    )
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(response.status, 500)
    assert.equal(text, 'boom')
  })

  it("§4.2.4 nor no-cache's", async () => {
    const p = path()
    r.answer(
      p,
      { headers: { 'cache-control': 'max-age=3600, no-cache, stale-if-error=3600', etag: '"e"' } },
      { status: 503, body: 'down' },
    )
    await get(r, p)
    assert.equal((await get(r, p)).response.status, 503)
  })

  it('without stale-if-error and without must-revalidate, a network error still reaches the caller as itself', async () => {
    const s = await rig(front)
    try {
      const p = '/plain'
      s.origin.route(p, thenGone({ 'cache-control': 'max-age=1', age: '5', etag: '"p"' }))
      await get(s, p)
      await assert.rejects(get(s, p), front.networkError)
    } finally {
      await s.close()
    }
  })

  it("a shared cache (cacheControl: 'shared'): §5.2.2.8 proxy-revalidate and §5.2.2.10 s-maxage alike", async () => {
    const s = await rig(front, { cacheControl: 'shared', staleIfError: true })
    try {
      for (const [p, cc] of [
        ['/proxy-revalidate', 'max-age=1, proxy-revalidate'],
        ['/s-maxage', 's-maxage=1'],
      ]) {
        s.origin.route(p as string, thenGone({ 'cache-control': cc as string, age: '5', etag: '"x"' }))
        await get(s, p as string)
        const { response } = await get(s, p as string)
        assert.equal(response.status, 504, cc)
        assert.equal(cacheStatusParams(response.cacheStatus).get('detail'), 'revalidation-failed')
      }
    } finally {
      await s.close()
    }
  })

  it('the default mode (cacheControl: false) is unchanged: the error reaches the caller', async () => {
    const s = await rig(front, { cacheControl: false, expireAfter: 0 })
    try {
      const p = '/default'
      s.origin.route(p, thenGone({ 'cache-control': 'max-age=1, must-revalidate', etag: '"d"' }))
      await get(s, p)
      await assert.rejects(get(s, p), front.networkError)
    } finally {
      await s.close()
    }
  })
})
