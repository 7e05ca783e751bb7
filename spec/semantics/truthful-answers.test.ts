import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from '../rfc9111/harness.js'

/** Answers the cache passes on match the origin's, for every answer the front without the cache accepts. */
forEachFront('answers that match the origin', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/truthful/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('query strings that are not valid UTF-8 never share a key', async () => {
    const p = path()
    let sent = 0
    r.answer(p, (req) => {
      sent++
      return { headers: { 'cache-control': 'max-age=600' }, body: req.url ?? '' }
    })
    const queries = ['?q=caf%E9', '?q=caf%E8', '?q=%FF%FE', '?q=%FE%FF', '?q=%C3%A9', '?q=%E9&a=%80']
    for (const query of queries) assert.equal((await get(r, `${p}${query}`)).text, `${p}${query}`)
    for (const query of queries) {
      const again = await get(r, `${p}${query}`)
      assert.equal(again.response.hit, true, `${query} is stored`)
      assert.equal(again.text, `${p}${query}`, `${query} gets its own response`)
    }
    // Parameters are still sorted, bytes untouched: the other order of the same parameters is the same query.
    assert.equal((await get(r, `${p}?a=%80&q=%E9`)).response.hit, true)
    assert.equal(sent, queries.length)
  })

  it('RFC 9111 §4.1: a 304 that adds Vary re-keys the entry: another variant is not served from it', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=0', etag: '"v1"', date: httpDate() }, body: 'english' }, (req) =>
      req.headers['if-none-match']
        ? { status: 304, headers: { 'cache-control': 'max-age=600', etag: '"v1"', vary: 'Accept-Language', date: httpDate() } }
        : {
            headers: { 'cache-control': 'max-age=600', vary: 'Accept-Language', date: httpDate() },
            body: `other: ${req.headers['accept-language']}`,
          },
    )
    assert.equal((await get(r, p, { headers: { 'accept-language': 'en' } })).text, 'english')
    const revalidated = await get(r, p, { headers: { 'accept-language': 'en' } })
    assert.equal(revalidated.response.revalidated, true)
    assert.equal(revalidated.text, 'english')
    const other = await get(r, p, { headers: { 'accept-language': 'fr' } })
    assert.equal(other.response.hit, false, 'the fr request is not served the en variant')
    assert.equal(other.text, 'other: fr')
    assert.equal((await get(r, p, { headers: { 'accept-language': 'en' } })).response.hit, true, 'the en variant is still stored')
    assert.equal(r.origin.count(p), 3)
  })
})
