import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FETCH } from '../helpers/fronts.js'
import { get, type Rig, rig } from './harness.js'

/**
 * Fetch's cache modes exist only on the fetch front. Besides what they do to the cache, the Fetch
 * standard's HTTP-network-or-cache fetch (§4.5) says what they add to the request that goes on, so
 * that caches between us and the origin do as ours did (RFC 9111 §5.2.1.4 no-cache, §5.2.1.1 max-age).
 */
describe('Fetch §4.5 cache modes change the forwarded request (RFC 9111 §5.2.1) [fetch]', () => {
  let r: Rig
  let n = 0
  const path = () => `/mode/${++n}`
  const validated = (p: string) =>
    r.answer(p, { headers: { 'cache-control': 'max-age=3600', etag: '"v"' } }, (req) =>
      req.headers['if-none-match'] === '"v"' ? { status: 304, headers: { etag: '"v"' } } : { body: 'again' },
    )
  before(async () => {
    r = await rig(FETCH)
  })
  after(() => r.close())

  it("'no-cache': the revalidation carries Cache-Control: max-age=0 (§5.2.1.1) beside its validator", async () => {
    const p = path()
    validated(p)
    await get(r, p)
    const { response } = await get(r, p, { cache: 'no-cache' } as never)
    assert.equal(response.revalidated, true)
    const sent = r.origin.requests.at(-1)?.headers
    assert.equal(sent?.['cache-control'], 'max-age=0')
    assert.equal(sent?.['if-none-match'], '"v"')
    assert.equal(sent?.pragma, undefined)
  })

  it("'no-cache' keeps the caller's own Cache-Control", async () => {
    const p = path()
    validated(p)
    await get(r, p)
    await get(r, p, { cache: 'no-cache', headers: { 'cache-control': 'max-age=5' } } as never)
    assert.equal(r.origin.requests.at(-1)?.headers['cache-control'], 'max-age=5')
  })

  for (const mode of ['no-store', 'reload'] as const) {
    it(`'${mode}': Cache-Control: no-cache and Pragma: no-cache (§5.2.1.4, §5.4) when absent`, async () => {
      const p = path()
      validated(p)
      await get(r, p)
      await get(r, p, { cache: mode } as never)
      const sent = r.origin.requests.at(-1)?.headers
      assert.equal(sent?.['cache-control'], 'no-cache')
      assert.equal(sent?.pragma, 'no-cache')
      await get(r, p, { cache: mode, headers: { pragma: 'x', 'cache-control': 'max-stale' } } as never)
      const own = r.origin.requests.at(-1)?.headers
      assert.equal(own?.['cache-control'], 'max-stale')
      assert.equal(own?.pragma, 'x')
    })
  }

  it('the default mode adds nothing, to a miss or to a revalidation of a stale entry', async () => {
    const p = path()
    r.answer(p, { headers: { 'cache-control': 'max-age=0', etag: '"s"' } }, { status: 304, headers: { etag: '"s"' } })
    await get(r, p)
    await get(r, p)
    assert.equal(r.origin.count(p), 2)
    for (const seen of r.origin.requests.slice(-2)) {
      assert.equal(seen.headers['cache-control'], undefined)
      assert.equal(seen.headers.pragma, undefined)
    }
  })
})
