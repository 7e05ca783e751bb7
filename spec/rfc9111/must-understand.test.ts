import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §5.2.2.3 must-understand (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/understand/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  async function reused(status: number, cacheControl: string): Promise<boolean> {
    const p = path()
    r.answer(p, { status, headers: { 'cache-control': cacheControl } })
    await get(r, p)
    const { response } = await get(r, p)
    assert.equal(response.status, status)
    return response.hit && r.origin.count(p) === 1
  }

  it('with no-store and a status the cache understands (200, 404): stored and reused', async () => {
    assert.equal(await reused(200, 'max-age=3600, must-understand, no-store'), true)
    assert.equal(await reused(404, 'no-store, must-understand, max-age=3600'), true)
  })

  it('with a status the cache does not understand (299): never stored, no-store or not', async () => {
    assert.equal(await reused(299, 'max-age=3600, must-understand, no-store'), false)
    assert.equal(await reused(299, 'max-age=3600, must-understand'), false)
    assert.equal(await reused(299, 'max-age=3600'), true, 'explicit freshness alone stores any final status')
  })

  it('no-store without must-understand is still never stored', async () => {
    assert.equal(await reused(200, 'max-age=3600, no-store'), false)
  })
})
