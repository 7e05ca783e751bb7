import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { type FrontResponse, forEachFront } from '../helpers/fronts.js'
import { startOrigin } from '../helpers/origin.js'
import { cacheStatusParams, get, type Rig, rig, stored } from './harness.js'

/** The parameters of the response's Cache-Status member. */
function status(response: FrontResponse): Map<string, string | true> {
  return cacheStatusParams(response.cacheStatus)
}

forEachFront('RFC 9211 Cache-Status (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/status/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('§2.2/§2.3/§2.5 a miss that is stored: fwd=miss, fwd-status, stored', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60' } })
    const s = status((await get(r, p)).response)
    assert.equal(s.get('fwd'), 'miss')
    assert.equal(s.get('fwd-status'), '200')
    assert.equal(s.get('stored'), true)
    assert.equal(s.has('hit'), false)
    // What it says is so: the entry is in the store, and the next request hits it.
    await r.front.settled()
    assert.ok(await stored(r, p), 'the response is in the store')
    assert.equal((await get(r, p)).response.hit, true)
    assert.equal(r.origin.count(p), 1)
  })

  it('§2.1/§2.7 a hit: hit and ttl (seconds of freshness left)', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60' } })
    await get(r, p)
    const s = status((await get(r, p)).response)
    assert.equal(s.get('hit'), true)
    const ttl = Number(s.get('ttl'))
    assert.ok(ttl > 55 && ttl <= 60, `ttl ${ttl}`)
    assert.equal(s.has('fwd'), false)
  })

  it('§2.5 a response that is not stored has no stored parameter', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'no-store' } })
    const s = status((await get(r, p)).response)
    assert.equal(s.get('fwd'), 'miss')
    assert.equal(s.has('stored'), false)
    await r.front.settled()
    assert.equal(await stored(r, p), undefined, 'nothing is in the store')
    assert.equal((await get(r, p)).response.hit, false)
    assert.equal(r.origin.count(p), 2)
  })

  it('§2.2 a revalidated response: fwd=stale, fwd-status=304, stored', async () => {
    const p = path()
    r.answer(p, (req) =>
      req.headers['if-none-match']
        ? { status: 304, headers: { etag: '"s"', 'cache-control': 'max-age=60' } }
        : { headers: { etag: '"s"', 'cache-control': 'max-age=1', age: '5' } },
    )
    await get(r, p)
    const s = status((await get(r, p)).response)
    assert.equal(s.get('fwd'), 'stale')
    assert.equal(s.get('fwd-status'), '304')
    assert.equal(s.get('stored'), true)
    // The renewed entry is what the store holds: the next request hits it.
    await r.front.settled()
    assert.equal((await get(r, p)).response.hit, true)
    assert.equal(r.origin.count(p), 2)
  })

  it('§2.2 a stale response replaced by a 200: fwd=stale, fwd-status=200', async () => {
    const p = path()
    r.answer(
      p,
      { headers: { etag: '"1"', 'cache-control': 'max-age=1', age: '5' } },
      { headers: { etag: '"2"', 'cache-control': 'max-age=60' } },
    )
    await get(r, p)
    const s = status((await get(r, p)).response)
    assert.equal(s.get('fwd'), 'stale')
    assert.equal(s.get('fwd-status'), '200')
  })

  it('§2.2 a fresh response revalidated because the request asked: fwd=request', async () => {
    const p = path()
    r.answer(p, (req) =>
      req.headers['if-none-match']
        ? { status: 304, headers: { etag: '"q"' } }
        : { headers: { etag: '"q"', 'cache-control': 'max-age=60' } },
    )
    await get(r, p)
    const s = status((await get(r, p, { headers: { 'cache-control': 'no-cache' } })).response)
    assert.equal(s.get('fwd'), 'request')
  })

  it('§2.2/§2.8 a request the cache stays out of: fwd=bypass (or method) with a detail', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60' } })
    const ranged = status((await get(r, p, { headers: { range: 'bytes=0-1,3-4' } })).response)
    assert.equal(ranged.get('fwd'), 'bypass')
    assert.equal(ranged.get('detail'), 'range-request')
    const posted = status((await get(r, p, { method: 'POST', body: 'x' })).response)
    assert.equal(posted.get('fwd'), 'method')
    assert.equal(posted.get('fwd-status'), '200')
  })

  it('§2.8 stale-if-error and stale-while-revalidate say so in detail', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=1, stale-if-error=60', age: '5' } }, { status: 500 })
    await get(r, p)
    const s = status((await get(r, p)).response)
    assert.equal(s.get('detail'), 'stale-if-error')
    assert.equal(s.get('fwd-status'), '500')
    const q = path()
    r.answer(q, { headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60', age: '5', etag: '"w"' } })
    await get(r, q)
    const w = status((await get(r, q)).response)
    assert.equal(w.get('hit'), true)
    assert.equal(w.get('detail'), 'stale-while-revalidate')
    assert.ok(Number(w.get('ttl')) < 0)
  })

  it('only-if-cached with nothing stored: 504 that says why', async () => {
    const s = status((await get(r, path(), { headers: { 'cache-control': 'only-if-cached' } })).response)
    assert.equal(s.get('detail'), 'only-if-cached')
    assert.equal(s.has('hit'), false)
  })

  it('a HEAD answered from a stored GET is a hit', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60' } })
    await get(r, p)
    assert.equal(status((await get(r, p, { method: 'HEAD' })).response).get('hit'), true)
  })
})

forEachFront('RFC 9211 §2 Cache-Status: upstream members kept, ours appended', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/append/${++n}`
  const CDN = 'ExampleCDN; hit; ttl=30'
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  /** The members of a field value, in order, each cut to what comes before its first parameter. */
  const identifiers = (value: string | null) => (value ?? '').split(',').map((member) => member.split(';')[0]?.trim())

  it('a miss passes the origin member on first, then ours', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60', 'cache-status': CDN } })
    const { response } = await get(r, p)
    assert.ok(response.cacheStatus?.startsWith(`${CDN}, fetch-http-cache; fwd=miss; fwd-status=200; stored; ttl=`))
    assert.deepEqual(identifiers(response.cacheStatus), ['ExampleCDN', 'fetch-http-cache'])
  })

  it('a hit serves the stored upstream member, then ours', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60', 'cache-status': CDN } })
    await get(r, p)
    const { response } = await get(r, p)
    assert.equal(response.hit, true)
    assert.equal(r.origin.count(p), 1)
    assert.deepEqual(identifiers(response.cacheStatus), ['ExampleCDN', 'fetch-http-cache'])
    assert.ok(response.cacheStatus?.startsWith(`${CDN}, fetch-http-cache; hit; ttl=`), String(response.cacheStatus))
  })

  it("a revalidation keeps the 304's upstream member (it updates the stored one), then ours", async () => {
    const p = path()
    r.answer(
      p,
      { headers: { etag: '"a"', 'cache-control': 'max-age=1', age: '5', 'cache-status': CDN } },
      {
        status: 304,
        headers: { etag: '"a"', 'cache-control': 'max-age=60', 'cache-status': 'ExampleCDN; fwd=stale; fwd-status=304' },
      },
    )
    await get(r, p)
    const { response } = await get(r, p)
    assert.equal(response.revalidated, true)
    assert.equal(r.origin.count(p), 2)
    assert.ok(
      response.cacheStatus?.startsWith('ExampleCDN; fwd=stale; fwd-status=304, fetch-http-cache; fwd=stale; fwd-status=304'),
      String(response.cacheStatus),
    )
    assert.deepEqual(identifiers(response.cacheStatus), ['ExampleCDN', 'fetch-http-cache'])
  })

  it('several upstream field lines keep their order, ours last; a request the cache stays out of too', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=60', 'cache-status': ['Edge; hit', 'Shield; fwd=miss'] } })
    const { response } = await get(r, p)
    assert.deepEqual(identifiers(response.cacheStatus), ['Edge', 'Shield', 'fetch-http-cache'])
    const hit = (await get(r, p)).response
    assert.equal(hit.hit, true)
    assert.deepEqual(identifiers(hit.cacheStatus), ['Edge', 'Shield', 'fetch-http-cache'])
    const bypassed = (await get(r, p, { headers: { 'cache-control': 'no-store' } })).response
    assert.deepEqual(identifiers(bypassed.cacheStatus), ['Edge', 'Shield', 'fetch-http-cache'])
    assert.equal(status(bypassed).get('fwd'), 'bypass')
  })
})

forEachFront('RFC 9211 §2.5 Cache-Status of a closed cache', (front) => {
  it('after cache.close() nothing is stored, and no response says stored', async (t) => {
    const origin = await startOrigin({ '/closed': (_req, res) => void res.end('ok') })
    const cache = front.open({ backend: 'memory' })
    t.after(async () => {
      await cache.close()
      await origin.close()
    })
    await cache.cache.close() // the cache, not the front's own connections
    const response = await cache.get(`${origin.url}/closed`)
    assert.equal(await response.text(), 'ok')
    assert.equal(status(response).get('fwd'), 'miss')
    assert.equal(status(response).has('stored'), false)
    assert.equal((await cache.get(`${origin.url}/closed`)).fromCache, false)
    assert.equal(origin.count('/closed'), 2)
  })
})
