import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { type CacheEntry, ENTRY_VERSION } from '../../lib/entry/entry.js'
import { capabilities, type Store } from '../../lib/entry/store.js'
import { createCachedFetchWithClock } from '../../lib/install/session.js'
import { cacheInfo } from '../../lib/observe/cache-info.js'
import { makeEntry, T0 } from '../helpers/entries.js'
import { startOrigin } from '../helpers/origin.js'
import { collect, storedKeys } from '../helpers/store-reads.js'

/** What a contract run needs: a fresh, empty store and a way to dispose of it. */
export type MakeStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>

/** What a store may do differently and still keep the contract. */
export interface ContractOptions {
  /**
   * A row that cannot be read stays until deleted by key or with `invalid` (the files store: its
   * files are the user's), instead of being deleted by the `get` that misses on it.
   */
  keepsUnreadable?: boolean
}

/**
 * The behaviour every {@link Store} keeps (lib/entry/store.ts), run against a real instance.
 * Results are awaited, so sync and async stores pass the same suite.
 */
export function storeContract(name: string, makeStore: MakeStore, options: ContractOptions = {}): void {
  describe(`${name}: the Store contract`, () => {
    let store: Store
    let cleanup: () => Promise<void>

    beforeEach(async () => {
      ;({ store, cleanup } = await makeStore())
    })
    afterEach(async () => {
      await cleanup()
    })

    it('answers undefined for a key never stored', async () => {
      assert.equal(await store.get('missing'), undefined)
    })

    it('returns what was set: every field, and the body bytes', async () => {
      const entry = makeEntry({ key: 'a' })
      await store.set('a', entry)
      assertSameEntry(await store.get('a'), entry)
    })

    it('round-trips optional fields, null expiry, non-ASCII text and coded bodies', async () => {
      const entry = makeEntry({
        key: 'b',
        kind: 'vary',
        vary: ['accept-language', 'accept'],
        tags: ['user-42', 'things'],
        url: 'https://example.com/caf%C3%A9?q=%E2%9C%93',
        responseUrl: 'https://example.com/café',
        requestHeaders: { 'accept-language': 'fr-CH, fr;q=0.9', authorization: 'hmac:abc' },
        headers: [
          ['content-disposition', "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"],
          ['x-note', 'naïve ✓'],
          ['x-dup', 'one'],
          ['x-dup', 'two'],
        ],
        statusText: 'Non-Authoritative Information',
        status: 203,
        redirected: true,
        encoding: 'coded',
        expires: null,
      })
      await store.set('b', entry)
      assertSameEntry(await store.get('b'), entry)
    })

    it('keeps an absent optional field absent', async () => {
      const entry = makeEntry({ key: 'c' })
      assert.equal('vary' in entry, false)
      await store.set('c', entry)
      const got = await store.get('c')
      assert.ok(got)
      assert.equal('vary' in got, false)
    })

    it('stores an empty body (HEAD, 204, 304)', async () => {
      const entry = makeEntry({ key: 'd', method: 'HEAD', body: new Uint8Array(0) })
      await store.set('d', entry)
      const got = await store.get('d')
      assertSameEntry(got, entry)
      assert.equal(got?.body.byteLength, 0)
    })

    it('stores every byte value, and a body that is a view into a larger buffer', async () => {
      const bytes = new Uint8Array(256 * 4)
      for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256
      const view = bytes.subarray(3, 3 + 700)
      await store.set('all', makeEntry({ key: 'all', body: bytes }))
      await store.set('view', makeEntry({ key: 'view', body: view }))
      assertSameBytes((await store.get('all'))?.body, bytes)
      assertSameBytes((await store.get('view'))?.body, view)
    })

    it('replaces the entry when a key is set again', async () => {
      await store.set('a', makeEntry({ key: 'a', body: bytes('old'), headers: [['etag', '"1"']] }))
      const newer = makeEntry({ key: 'a', body: bytes('newer body'), headers: [['etag', '"2"']], status: 203, expires: null })
      await store.set('a', newer)
      assertSameEntry(await store.get('a'), newer)
      assert.deepEqual(await storedKeys(store), ['a'])
    })

    it('keeps entries under different keys apart', async () => {
      const one = makeEntry({ key: 'one', body: bytes('1') })
      const two = makeEntry({ key: 'two', body: bytes('2') })
      await store.set('one', one)
      await store.set('two', two)
      assertSameEntry(await store.get('one'), one)
      assertSameEntry(await store.get('two'), two)
    })

    it('deletes only the named keys, and ignores unknown ones', async () => {
      for (const key of ['a', 'b', 'c']) await store.set(key, makeEntry({ key }))
      await store.delete(['a', 'c', 'never-stored'])
      assert.equal(await store.get('a'), undefined)
      assert.equal(await store.get('c'), undefined)
      assert.ok(await store.get('b'))
      assert.deepEqual(await storedKeys(store), ['b'])
    })

    it('treats deleting no keys as a no-op', async () => {
      await store.set('a', makeEntry({ key: 'a' }))
      await store.delete([])
      assert.ok(await store.get('a'))
    })

    it('empties on clear, and stays usable', async () => {
      for (const key of ['a', 'b', 'c']) await store.set(key, makeEntry({ key }))
      await store.clear()
      assert.deepEqual(await storedKeys(store), [])
      assert.equal(await store.get('a'), undefined)
      await store.set('a', makeEntry({ key: 'a' }))
      assert.ok(await store.get('a'))
    })

    it('lists every row once in records(), with its entry', async () => {
      const keys = Array.from({ length: 250 }, (_, i) => `key-${String(i).padStart(3, '0')}`)
      for (const key of keys) await store.set(key, makeEntry({ key, url: `https://example.com/${key}` }))
      const records = await collect(store.records())
      assert.deepEqual(records.map((r) => r.key).sort(), keys)
      for (const { key, entry } of records) assert.equal(entry?.url, `https://example.com/${key}`)
    })

    it('lets the caller delete rows while iterating records()', async () => {
      const keys = Array.from({ length: 150 }, (_, i) => `key-${i}`)
      for (const key of keys) await store.set(key, makeEntry({ key }))
      let seen = 0
      for await (const { key } of store.records()) {
        await store.delete([key])
        seen++
      }
      assert.equal(seen, keys.length)
      assert.deepEqual(await storedKeys(store), [])
    })

    it(`misses on an entry of another version (older or newer), ${options.keepsUnreadable ? 'keeps it' : 'deletes it'}, and lists it as unreadable meanwhile`, async () => {
      const future = { ...makeEntry({ key: 'future' }), v: ENTRY_VERSION + 1 } as unknown as CacheEntry
      // An entry written in format 2 (format 3 is read: see the next test).
      const past = { ...makeEntry({ key: 'past' }), v: ENTRY_VERSION - 2 } as unknown as CacheEntry
      await store.set('future', future)
      await store.set('past', past)
      await store.set('ok', makeEntry({ key: 'ok' }))
      const before = await collect(store.records())
      assert.deepEqual(before.map((r) => [r.key, r.entry === undefined]).sort(), [
        ['future', true],
        ['ok', false],
        ['past', true],
      ])
      assert.equal(await store.get('future'), undefined)
      assert.equal(await store.get('past'), undefined)
      assert.deepEqual(await storedKeys(store), options.keepsUnreadable ? ['future', 'ok', 'past'] : ['ok'])
      await store.delete(['future', 'past'])
      assert.deepEqual(await storedKeys(store), ['ok'])
    })

    it('reads an entry of format 3 as the current format, with the freshness facts of its own fields', async () => {
      const current = makeEntry({
        key: 'three',
        headers: [
          ['age', '20'],
          ['cache-control', 'max-age=600, stale-while-revalidate=30, must-revalidate'],
        ],
      })
      // Format 3: the same entry without its facts.
      const { initialAge: _age, directives: _directives, ...three } = { ...current, v: ENTRY_VERSION - 1 }
      await store.set('three', three as unknown as CacheEntry)
      const read = await store.get('three')
      assertSameEntry(read, current)
      // RFC 9111 §4.2.3: Age (20 s) plus the response delay (5 ms).
      assert.equal(read?.initialAge, 20_005)
      assert.deepEqual(read?.directives, { mustRevalidate: true, staleWhileRevalidate: 30 })
    })

    it('keeps expired entries: they can still be revalidated or served stale', async () => {
      const expired = makeEntry({ key: 'old', createdAt: T0, expires: T0 + 1 })
      await store.set('old', expired)
      assertSameEntry(await store.get('old'), expired)
    })

    it('keysForUrl() lists every key stored for a URL, whichever request it answered, pending or committed', async (t) => {
      const indexed = capabilities(store).urls
      if (!indexed) return t.skip('no keysForUrl(): invalidation reads every row')
      const url = 'https://example.com/doc?q=1'
      await store.set('anonymous', makeEntry({ key: 'anonymous', url }))
      await store.set('other-url', makeEntry({ key: 'other-url', url: 'https://example.com/doc?q=2' }))
      await capabilities(store).flush?.flush()
      await store.set('credentialed', makeEntry({ key: 'credentialed', url })) // pending, on a write-behind store
      await store.set('marker', makeEntry({ key: 'marker', kind: 'vary', vary: ['accept'], url }))
      assert.deepEqual((await indexed.keysForUrl(url)).toSorted(), ['anonymous', 'credentialed', 'marker'])
      await store.delete(['anonymous'])
      await store.set('marker', makeEntry({ key: 'marker', url: 'https://example.com/moved' }))
      await capabilities(store).flush?.flush()
      assert.deepEqual(await indexed.keysForUrl(url), ['credentialed'], 'deleted and replaced rows are no longer listed')
      await store.clear()
      assert.deepEqual(await indexed.keysForUrl(url), [])
    })

    it('refresh() replaces headers, times and expiry, and keeps the stored body', async (t) => {
      const refreshing = capabilities(store).refresh
      if (!refreshing) return t.skip('no refresh(): callers set the whole entry')
      const stored = makeEntry({ key: 'r', body: bytes('the body'), headers: [['etag', '"1"']], createdAt: T0, expires: T0 + 10 })
      await store.set('r', stored)
      await capabilities(store).flush?.flush() // refresh the stored row, not a write still pending
      const { body: _body, ...meta } = stored
      const renewed = {
        ...meta,
        headers: [
          ['etag', '"1"'],
          ['x-new', 'yes'],
        ] as [string, string][],
        createdAt: T0 + 500,
        expires: T0 + 9000,
      }
      await refreshing.refresh('r', renewed, T0)
      assertSameEntry(await store.get('r'), { ...renewed, body: bytes('the body') })
      const listed = await collect(store.records())
      assert.equal(listed.length, 1, 'refreshed in place, not added')
    })

    it('refresh() leaves alone a response stored since (another createdAt), and a deleted key', async (t) => {
      const refreshing = capabilities(store).refresh
      if (!refreshing) return t.skip('no refresh(): callers set the whole entry')
      const revalidated = makeEntry({ key: 'r', body: bytes('old'), headers: [['etag', '"1"']], createdAt: T0 })
      const { body: _body, ...meta } = revalidated
      const newer = makeEntry({ key: 'r', body: bytes('new'), headers: [['etag', '"2"']], createdAt: T0 + 100 })
      await store.set('r', newer)
      await capabilities(store).flush?.flush()
      await refreshing.refresh('r', { ...meta, createdAt: T0 + 200, expires: null }, T0)
      assertSameEntry(await store.get('r'), newer)
      await store.delete(['r'])
      await refreshing.refresh('r', { ...meta, createdAt: T0 + 300 }, T0 + 100)
      assert.equal(await store.get('r'), undefined)
      assert.deepEqual(await storedKeys(store), [])
    })

    // RFC 9111 §4.3.4: the engine writes the entry a 304 freshened back to the store, with refresh()
    // where the store has it and a whole set() where it has not (Redis); both, on every store.
    for (const way of ['refresh()', 'set()'] as const) {
      it(`a 304 renews the stored entry through the cache, written back with ${way}: the next use is a hit`, async (t) => {
        if (way === 'refresh()' && !capabilities(store).refresh) return t.skip('no refresh(): the cache sets the whole entry')
        await renewsAfterNotModified(way === 'refresh()' ? store : withoutRefresh(store))
      })
    }

    it('has a secret of 32 random bytes in hex, stable for its life', async () => {
      const secret = store.secret
      assert.match(secret, /^[0-9a-f]{64}$/)
      await store.set('a', makeEntry({ key: 'a' }))
      await store.get('a')
      await capabilities(store).flush?.flush()
      await collect(store.records())
      await store.clear()
      assert.equal(store.secret, secret)
      const other = await makeStore()
      try {
        // Separate stores (separate files) must not share a secret by accident.
        assert.notEqual(other.store.secret, store.secret)
      } finally {
        await other.cleanup()
      }
    })
  })
}

/**
 * Through a real cache on `store` (the fetch front, clock moved by hand): an entry stored, expired,
 * revalidated with a 304, then served as a hit from what the renewal wrote, not from memory of it.
 */
async function renewsAfterNotModified(store: Store): Promise<void> {
  let now = T0
  const origin = await startOrigin({
    '/r': (req, res) => {
      // The origin's clock is the cache's (the files store dates its entries by `Date`).
      res.setHeader('date', new Date(now).toUTCString())
      res.setHeader('etag', '"1"')
      res.statusCode = req.headers['if-none-match'] === '"1"' ? 304 : 200
      res.end(res.statusCode === 200 ? 'renewed body' : undefined)
    },
  })
  const errors: Error[] = []
  const open = () => createCachedFetchWithClock({ backend: store, expireAfter: 60, onError: (e) => errors.push(e) }, () => now)
  try {
    const first = await open()(`${origin.url}/r`)
    assert.equal(await first.text(), 'renewed body')
    assert.equal(await cacheInfo(first)?.stored, true)
    await capabilities(store).flush?.flush()
    now += 61_000
    const revalidated = await open()(`${origin.url}/r`)
    assert.equal(await revalidated.text(), 'renewed body')
    assert.equal(cacheInfo(revalidated)?.revalidated, true)
    assert.equal(origin.count('/r'), 2)
    await capabilities(store).flush?.flush()
    // A new cache on the same store: what it finds is what the renewal wrote.
    const hit = await open()(`${origin.url}/r`)
    assert.equal(await hit.text(), 'renewed body')
    assert.equal(cacheInfo(hit)?.fromCache, true)
    assert.equal(cacheInfo(hit)?.revalidated, false)
    assert.equal(origin.count('/r'), 2, 'the renewed entry is fresh: no request to the origin')
    assert.deepEqual(errors, [])
  } finally {
    await origin.close()
  }
}

/** `store` without its refresh() capability: the cache then writes a renewed entry with set(). */
function withoutRefresh(store: Store): Store {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'refresh') return undefined
      const value: unknown = Reflect.get(target, name, target)
      // Bound to the store itself: its methods read its #private fields.
      return typeof value === 'function' ? value.bind(target) : value
    },
    has: (target, name) => name !== 'refresh' && Reflect.has(target, name),
  })
}

/** Assert `actual` is `expected`, field by field, comparing the body as bytes (a store may return a Buffer). */
export function assertSameEntry(actual: CacheEntry | undefined, expected: CacheEntry): void {
  assert.ok(actual, 'expected an entry, got undefined')
  const { body: actualBody, ...actualRest } = actual
  const { body: expectedBody, ...expectedRest } = expected
  assert.deepEqual(actualRest, expectedRest)
  assertSameBytes(actualBody, expectedBody)
}

function assertSameBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  assert.ok(actual instanceof Uint8Array, 'body is not a Uint8Array')
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected), 'body bytes differ')
}

/** Every record, from a sync or async iterable. */
function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
