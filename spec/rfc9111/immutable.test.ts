import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { type FrontInit, forEachFront } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

/** Stores `cacheControl` with a validator, then asks again with `init`: whether the origin was asked again. */
async function askedAgain(r: Rig, path: string, cacheControl: string, init: FrontInit): Promise<boolean> {
  r.answer(path, { headers: { 'cache-control': cacheControl, etag: '"i"' } }, (req) =>
    req.headers['if-none-match'] === '"i"' ? { status: 304, headers: { etag: '"i"' } } : { body: 'new' },
  )
  await get(r, path)
  const { response } = await get(r, path, init)
  assert.equal(response.status, 200)
  return r.origin.count(path) === 2
}

forEachFront('RFC 8246 §2 immutable (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/immutable/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  it('a reload (request Cache-Control: max-age=0) serves a fresh immutable response without revalidating', async () => {
    assert.equal(await askedAgain(r, path(), 'max-age=3600, immutable', { headers: { 'cache-control': 'max-age=0' } }), false)
  })

  it('the same reload revalidates a fresh response that is not immutable', async () => {
    assert.equal(await askedAgain(r, path(), 'max-age=3600', { headers: { 'cache-control': 'max-age=0' } }), true)
  })

  it('a force reload (request no-cache, Pragma: no-cache, the refresh option) still revalidates it', async () => {
    assert.equal(await askedAgain(r, path(), 'max-age=3600, immutable', { headers: { 'cache-control': 'no-cache' } }), true)
    assert.equal(await askedAgain(r, path(), 'max-age=3600, immutable', { headers: { pragma: 'no-cache' } }), true)
    assert.equal(await askedAgain(r, path(), 'max-age=3600, immutable', { cacheOptions: { refresh: true } }), true)
  })

  it('a stale immutable response is revalidated as any', async () => {
    assert.equal(await askedAgain(r, path(), 'max-age=0, immutable', { headers: { 'cache-control': 'max-age=0' } }), true)
  })

  if (front.name === 'fetch') {
    it("fetch's cache: 'no-cache' is a reload too: a fresh immutable response is served", async () => {
      assert.equal(await askedAgain(r, path(), 'max-age=3600, immutable', { cache: 'no-cache' } as FrontInit), false)
    })
  }
})
