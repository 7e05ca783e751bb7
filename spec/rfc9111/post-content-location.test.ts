import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { cacheStatusParams, get, type Rig, rig } from './harness.js'

forEachFront('RFC 9110 §9.3.3 a POST response naming its own URI in Content-Location answers later GETs', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/post/${++n}`
  before(async () => {
    r = await rig(front, { allowableMethods: ['GET', 'HEAD', 'POST'] })
  })
  after(() => r.close())

  /** The origin answers POST with `headers` and body 'posted', GET with 'from origin'. */
  function answering(p: string, headers: Record<string, string>) {
    r.answer(p, (req) => (req.method === 'POST' ? { headers, body: 'posted' } : { body: 'from origin' }))
  }
  const post = (p: string) => get(r, p, { method: 'POST', body: 'form=1', headers: { 'content-type': 'text/plain' } })

  it('with explicit freshness and Content-Location equal to the request URI: a later GET is a hit', async () => {
    const p = path()
    answering(p, { 'cache-control': 'max-age=3600', 'content-location': p })
    await post(p)
    const { response, text } = await get(r, p)
    assert.equal(response.hit, true)
    assert.equal(text, 'posted')
    assert.equal(r.origin.count(p), 1)
  })

  it('an absolute Content-Location and Expires count too, and replace a GET stored before', async () => {
    const p = path()
    r.answer(p, (req) =>
      req.method === 'POST'
        ? { headers: { expires: new Date(Date.now() + 3600_000).toUTCString(), 'content-location': r.url(p) }, body: 'posted' }
        : { headers: { 'cache-control': 'max-age=3600' }, body: 'old' },
    )
    assert.equal((await get(r, p)).text, 'old')
    await post(p)
    assert.equal((await get(r, p)).text, 'posted')
    assert.equal(r.origin.count(p), 2)
  })

  for (const [what, headers] of [
    ['Content-Location naming another URI', { 'cache-control': 'max-age=3600', 'content-location': '/elsewhere' }],
    ['no Content-Location', { 'cache-control': 'max-age=3600' }],
    ['no explicit freshness', { 'content-location': '/same', 'last-modified': new Date(0).toUTCString() }],
  ] as [string, Record<string, string>][]) {
    it(`not with ${what}`, async () => {
      const p = path()
      answering(p, { ...headers, ...(headers['content-location'] === '/same' ? { 'content-location': p } : {}) })
      await post(p)
      assert.equal((await get(r, p)).text, 'from origin')
    })
  }

  it('also when POST is not in allowableMethods: stored as the GET only, a second POST still goes to the origin', async () => {
    const s = await rig(front)
    try {
      s.answer('/p', (req) =>
        req.method === 'POST'
          ? { headers: { 'cache-control': 'max-age=3600', 'content-location': '/p' }, body: 'posted' }
          : { body: 'from origin' },
      )
      const posted = (await get(s, '/p', { method: 'POST', body: 'x' })).response
      assert.equal(cacheStatusParams(posted.cacheStatus).get('fwd'), 'method')
      const later = await get(s, '/p')
      assert.equal(later.response.hit, true)
      assert.equal(later.text, 'posted')
      await get(s, '/p', { method: 'POST', body: 'x' })
      assert.equal(s.origin.count('/p'), 2)
    } finally {
      await s.close()
    }
  })

  it('not in the default mode (cacheControl: false)', async () => {
    const s = await rig(front, { cacheControl: false })
    try {
      s.answer('/p', (req) =>
        req.method === 'POST'
          ? { headers: { 'cache-control': 'max-age=3600', 'content-location': '/p' }, body: 'posted' }
          : { body: 'from origin' },
      )
      await get(s, '/p', { method: 'POST', body: 'x' })
      assert.equal((await get(s, '/p')).text, 'from origin')
    } finally {
      await s.close()
    }
  })
})
