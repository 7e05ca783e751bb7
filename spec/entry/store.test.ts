import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { capabilities, type Store } from '../../lib/entry/store.js'
import { MemoryStore } from '../../lib/stores/memory.js'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { forEachFront } from '../helpers/fronts.js'
import { tempDir } from '../helpers/origin.js'
import { coreOnly } from '../helpers/wrapped-store.js'
import { startPerTestOn, validatedRoute } from '../semantics/fixtures.js'

const S = 1000

/** The capabilities a store was found to have, by name. */
function found(store: Parameters<typeof capabilities>[0]): string[] {
  return Object.entries(capabilities(store))
    .filter(([, handle]) => handle !== undefined)
    .map(([name]) => name)
}

describe('store capabilities (lib/entry/store.ts)', () => {
  test('are detected from the methods a store has: the built-in stores, and a store with the core only', async () => {
    const { dir, cleanup } = await tempDir()
    const sqlite = new SqliteStore({ path: join(dir, 'c.sqlite') })
    try {
      assert.deepEqual(found(new MemoryStore()), ['refresh', 'metadata', 'size', 'urls'])
      assert.deepEqual(found(sqlite), ['refresh', 'metadata', 'flush', 'size', 'urls'])
      assert.deepEqual(found(coreOnly(new MemoryStore())), [])
    } finally {
      sqlite.close()
      await cleanup()
    }
  })
})

forEachFront('a custom store implementing only the core', (kind) => {
  const start = startPerTestOn(kind)

  test('serves hits, renews an entry on a 304 by setting it whole, keeps Vary variants apart, and is inspected like any', async () => {
    const store = coreOnly(new MemoryStore())
    const reported: Error[] = []
    const { front, origin, clock, url } = await start(
      { backend: store, expireAfter: 60, onError: (error) => reported.push(error) },
      { '/v': validatedRoute({ headers: { vary: 'x-lang' } }) },
    )
    for (const lang of ['en', 'de']) await (await front.get(url('/v'), { headers: { 'x-lang': lang } })).text()
    const hit = await front.get(url('/v'), { headers: { 'x-lang': 'en' } })
    assert.equal(hit.hit, true)
    await hit.text()
    clock.advance(61 * S)
    const revalidated = await front.get(url('/v'), { headers: { 'x-lang': 'de' } })
    assert.equal(await revalidated.text(), 'body v1')
    assert.equal(revalidated.revalidated, true)
    // The 304 renewed the stored variant by a whole `set` (no `refresh` capability): fresh again.
    const renewed = await front.get(url('/v'), { headers: { 'x-lang': 'de' } })
    assert.equal(renewed.hit, true)
    assert.equal(await renewed.text(), 'body v1')
    assert.equal(origin.count('/v'), 3)
    assert.equal(await front.cache.count(), 2)
    assert.ok((await front.cache.size()) > 0)
    assert.deepEqual(reported, [])
  })
})
