import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from './harness.js'

forEachFront('RFC 9110 §13.1.3 revalidating an entry without validator by its Date (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/by-date/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('the revalidation carries If-Modified-Since with the stored Date, and a 304 serves the stored body', async () => {
    const p = path()
    const date = httpDate(-60)
    r.answer(p, { headers: { 'cache-control': 'max-age=3600', date }, body: 'kept' }, (req) =>
      req.headers['if-modified-since'] ? { status: 304 } : { body: 'sent again' },
    )
    await get(r, p)
    const { response, text } = await get(r, p, { headers: { 'cache-control': 'max-age=0' } })
    assert.equal(r.origin.requests.at(-1)?.headers['if-modified-since'], date)
    assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], undefined)
    assert.equal(response.revalidated, true)
    assert.equal(text, 'kept')
  })

  it('an ETag or Last-Modified is still preferred', async () => {
    const p = path()
    const lastModified = httpDate(-3600)
    r.answer(p, { headers: { 'cache-control': 'max-age=3600', date: httpDate(-60), 'last-modified': lastModified } })
    await get(r, p)
    await get(r, p, { headers: { 'cache-control': 'max-age=0' } })
    assert.equal(r.origin.requests.at(-1)?.headers['if-modified-since'], lastModified)
  })

  it('the default mode (cacheControl: false) refetches without conditions, as before', async () => {
    const s = await rig(front, { cacheControl: false, expireAfter: 3600 })
    try {
      s.answer('/plain', { headers: { date: httpDate(-60) } })
      await get(s, '/plain')
      await get(s, '/plain', { cacheOptions: { refresh: true } })
      assert.equal(s.origin.count('/plain'), 2)
      assert.equal(s.origin.requests.at(-1)?.headers['if-modified-since'], undefined)
    } finally {
      await s.close()
    }
  })
})
