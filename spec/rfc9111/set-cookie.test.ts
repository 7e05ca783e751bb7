import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { CacheOptions } from '../../lib/options/types.js'
import { type FrontInit, forEachFront } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

const COOKIES = ['a=1; Path=/; HttpOnly', 'b=2']
const STORED = { 'cache-control': 'max-age=3600', 'set-cookie': COOKIES }

forEachFront('RFC 9111 §3.1, §7.3 Set-Cookie', (front) => {
  describe('cacheControl: true (private cache): stored and replayed within its credential partition', () => {
    let r: Rig
    let n = 0
    const path = () => `/cookie/${++n}`
    before(async () => {
      r = await rig(front)
    })
    after(() => r.close())

    it('§3.1 every Set-Cookie line is stored and replayed on a hit', async () => {
      const p = path()
      r.answer(p, { headers: STORED })
      await get(r, p)
      const { response } = await get(r, p)
      assert.equal(response.hit, true)
      assert.deepEqual(response.headers.getSetCookie(), COOKIES)
      assert.equal(r.origin.count(p), 1)
    })

    it('§4.3.4 a 304 carrying Set-Cookie replaces the stored ones; one without keeps them', async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=0', etag: '"c"', 'set-cookie': COOKIES } },
        { status: 304, headers: { etag: '"c"', 'set-cookie': 'fresh=3' } },
        { status: 304, headers: { etag: '"c"' } },
      )
      await get(r, p)
      const renewed = await get(r, p)
      assert.equal(renewed.response.revalidated, true)
      assert.deepEqual(renewed.response.headers.getSetCookie(), ['fresh=3'])
      const again = await get(r, p)
      assert.equal(again.response.revalidated, true)
      assert.deepEqual(again.response.headers.getSetCookie(), ['fresh=3'])
    })

    for (const [what, first, second] of [
      ['Cookie', { cookie: 'session=1' }, { cookie: 'session=2' }],
      ['Authorization', { authorization: 'Bearer one' }, { authorization: 'Bearer two' }],
      ['no credentials after Cookie', { cookie: 'session=1' }, {}],
    ] as [string, Record<string, string>, Record<string, string>][]) {
      it(`only to requests with the same credentials (${what})`, async () => {
        const p = path()
        r.answer(p, { headers: STORED })
        await get(r, p, { headers: first })
        const same = await get(r, p, { headers: first })
        assert.deepEqual(same.response.headers.getSetCookie(), COOKIES)
        const other = await get(r, p, { headers: second })
        assert.equal(other.response.hit, false)
        assert.equal(r.origin.count(p), 2)
      })
    }
  })

  const neverReplayed: [string, CacheOptions][] = [
    ["cacheControl: 'shared' (a shared cache must not hand one user's cookie to another)", { cacheControl: 'shared' }],
    ['cacheControl: false (the default mode, as requests-cache)', { cacheControl: false, expireAfter: 3600 }],
    ["ignoredParameters naming 'cookie' (no credential partition)", { ignoredParameters: ['cookie'] }],
  ]
  for (const [what, options] of neverReplayed) {
    describe(`${what}: the response is stored, Set-Cookie is not`, () => {
      let r: Rig
      before(async () => {
        r = await rig(front, options)
      })
      after(() => r.close())

      it('a hit carries no Set-Cookie', async () => {
        r.answer('/c', { headers: STORED })
        const init: FrontInit = { headers: { cookie: 'session=1' } }
        const first = await get(r, '/c', init)
        assert.deepEqual(first.response.headers.getSetCookie(), COOKIES, 'the origin response passes as it is')
        const { response } = await get(r, '/c', init)
        assert.equal(response.hit, true)
        assert.deepEqual(response.headers.getSetCookie(), [])
      })
    })
  }
})
