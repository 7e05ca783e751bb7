import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §4.4 invalidation by unsafe methods (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const prefix = () => `/inv/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  const fresh = { headers: { 'cache-control': 'max-age=3600' } }
  /** How many GETs of a path reached the origin. */
  const gets = (p: string) => r.origin.requests.filter((q) => q.method === 'GET' && q.path === p).length

  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'M-SEARCH']) {
    it(`a successful ${method} invalidates its URL`, async () => {
      const p = prefix()
      r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 200, body: 'done' }))
      await get(r, p)
      await get(r, p, { method, body: 'abc' })
      await get(r, p)
      assert.equal(gets(p), 2)
    })

    it(`a failed ${method} (500) leaves the stored response alone`, async () => {
      const p = prefix()
      r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 500 }))
      await get(r, p)
      await get(r, p, { method, body: 'abc' })
      await get(r, p)
      assert.equal(gets(p), 1)
    })
  }

  it('a successful POST invalidates same-origin Location and Content-Location, relative or absolute', async () => {
    const p = prefix()
    for (const target of ['location-target', 'content-location-target']) r.answer(`${p}/${target}`, fresh)
    r.answer(`${p}/form`, {
      status: 201,
      headers: { location: 'location-target', 'content-location': r.url(`${p}/content-location-target`) },
    })
    await get(r, `${p}/location-target`)
    await get(r, `${p}/content-location-target`)
    await get(r, `${p}/form`, { method: 'POST', body: 'x' })
    await get(r, `${p}/location-target`)
    await get(r, `${p}/content-location-target`)
    assert.equal(r.origin.count(`${p}/location-target`), 2)
    assert.equal(r.origin.count(`${p}/content-location-target`), 2)
  })

  it('a 303 See Other (a non-error status) invalidates too', async () => {
    const p = prefix()
    r.answer(p, (req) => (req.method === 'GET' ? fresh : { status: 303, headers: { location: `${p}?done` } }))
    r.answer(`${p}?done`, { body: 'done' })
    await get(r, p)
    await get(r, p, { method: 'POST', body: 'x', redirect: 'manual' })
    await get(r, p)
    assert.equal(gets(p), 2)
  })

  it('does not invalidate a Location on another origin', async () => {
    const other = await rig(front)
    try {
      const p = prefix()
      other.answer(p, fresh)
      r.answer(p, { status: 200, headers: { location: other.url(p) } })
      // The other origin's response, stored in *our* cache.
      await r.front.get(other.url(p)).then((res) => res.text())
      await get(r, p, { method: 'POST', body: 'x' })
      await r.front.get(other.url(p)).then((res) => res.text())
      assert.equal(other.origin.count(p), 1)
    } finally {
      await other.close()
    }
  })

  it('invalidates every stored variant of a Vary response', async () => {
    const p = prefix()
    r.answer(p, (req) => (req.method === 'GET' ? { headers: { 'cache-control': 'max-age=3600', vary: 'foo' } } : { status: 204 }))
    await get(r, p, { headers: { foo: '1' } })
    await get(r, p, { headers: { foo: '2' } })
    await get(r, p, { method: 'DELETE' })
    await get(r, p, { headers: { foo: '1' } })
    await get(r, p, { headers: { foo: '2' } })
    assert.equal(gets(p), 4)
  })

  it('a safe method (OPTIONS) invalidates nothing', async () => {
    const p = prefix()
    r.answer(p, fresh)
    await get(r, p)
    await get(r, p, { method: 'OPTIONS' })
    await get(r, p)
    assert.equal(gets(p), 1)
  })
})
