import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §4.1 Vary on list-valued fields, normalised (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/vary-list/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  function varying(p: string, header: string) {
    r.answer(p, (req) => ({
      headers: { 'cache-control': 'max-age=3600', date: httpDate(), vary: header },
      body: `${header}=${req.headers[header.toLowerCase()] ?? '(none)'}`,
    }))
  }
  const send = (p: string, headers: Record<string, string>) => get(r, p, { headers })

  it('Accept-Language: the same languages in another case, spacing and order share a variant', async () => {
    const p = path()
    varying(p, 'Accept-Language')
    await send(p, { 'accept-language': 'en-US, fr;q=0.5' })
    for (const same of ['fr;q=0.5,en-US', 'EN-us ,  FR ; q=0.5', 'en-us,fr; q=0.5']) {
      const { response, text } = await send(p, { 'accept-language': same })
      assert.equal(response.hit, true, same)
      assert.equal(text, 'Accept-Language=en-US, fr;q=0.5')
    }
    assert.equal(r.origin.count(p), 1)
  })

  it('Accept-Language: other languages or weights are another variant', async () => {
    const p = path()
    varying(p, 'Accept-Language')
    await send(p, { 'accept-language': 'en-US, fr;q=0.5' })
    await send(p, { 'accept-language': 'en-US, fr;q=0.6' })
    await send(p, { 'accept-language': 'en-US, de' })
    assert.equal(r.origin.count(p), 3)
  })

  it('Accept-Language: a variant whose Content-Language is the language a request prefers most (by q) answers it', async () => {
    const p = path()
    r.answer(p, (req) => ({
      headers: { 'cache-control': 'max-age=3600', vary: 'Accept-Language', 'content-language': 'de' },
      body: `chosen for ${req.headers['accept-language']}`,
    }))
    await send(p, { 'accept-language': 'en, de' })
    for (const prefersGerman of ['fr;q=0.5, de;q=1.0', 'de', 'DE, en;q=0.9']) {
      const { response, text } = await send(p, { 'accept-language': prefersGerman })
      assert.equal(response.hit, true, prefersGerman)
      assert.equal(text, 'chosen for en, de')
    }
    assert.equal(r.origin.count(p), 1)
    for (const prefersOther of ['fr, de;q=0.5', 'de-AT', '*']) {
      assert.equal((await send(p, { 'accept-language': prefersOther })).response.hit, false, prefersOther)
    }
    assert.equal(r.origin.count(p), 4)
  })

  it('Accept-Language: a variant in another language than the one preferred is not chosen by it', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=3600', vary: 'Accept-Language', 'content-language': 'en' } })
    await send(p, { 'accept-language': 'en, de' })
    assert.equal((await send(p, { 'accept-language': 'de;q=1, en;q=0.5' })).response.hit, false)
    assert.equal((await send(p, { 'accept-language': 'en;q=0.8' })).response.hit, true)
  })

  it('Accept and Accept-Encoding are normalised alike', async () => {
    const p = path()
    varying(p, 'Accept')
    await send(p, { accept: 'text/html, application/json;q=0.9' })
    assert.equal((await send(p, { accept: 'Application/JSON; q=0.9,TEXT/HTML' })).response.hit, true)
    const q = path()
    varying(q, 'Accept-Encoding')
    await send(q, { 'accept-encoding': 'gzip, br' })
    assert.equal((await send(q, { 'accept-encoding': 'BR,gzip' })).response.hit, true)
  })

  it('other fields keep their case: X-Token values differing in case are different variants', async () => {
    const p = path()
    varying(p, 'X-Token')
    await send(p, { 'x-token': 'a, b' })
    assert.equal((await send(p, { 'x-token': 'B, A' })).response.hit, false)
  })
})
