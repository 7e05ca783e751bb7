import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../../lib/errors.js'
import { MemoryStore, type MemoryStoreOptions } from '../../lib/stores/memory.js'
import { makeEntry } from '../helpers/entries.js'
import { storeContract } from './contract.js'

storeContract('MemoryStore', async () => {
  const store = new MemoryStore()
  return { store, cleanup: async () => store.close() }
})

describe('MemoryStore', () => {
  const keys = (store: MemoryStore) => [...store.records()].map((r) => r.key).sort()

  it('evicts the least-recently-used entry past maxEntries', () => {
    const store = new MemoryStore({ maxEntries: 3 })
    for (const key of ['a', 'b', 'c']) store.set(key, makeEntry({ key }))
    assert.ok(store.get('a')) // 'b' is now the least recently used
    store.set('d', makeEntry({ key: 'd' }))
    assert.deepEqual(keys(store), ['a', 'c', 'd'])
  })

  it('evicts least-recently-used entries past maxSize, counting the size of each entry', () => {
    const body = new Uint8Array(1000)
    const probe = new MemoryStore()
    probe.set('a', makeEntry({ key: 'a', body }))
    const one = probe.size()
    assert.ok(one > body.byteLength, 'the size counts the body and the metadata')
    const store = new MemoryStore({ maxSize: Math.floor(one * 3.5) })
    for (const key of ['a', 'b', 'c']) store.set(key, makeEntry({ key, body }))
    assert.equal(store.size(), one * 3)
    assert.ok(store.get('a'))
    store.set('d', makeEntry({ key: 'd', body }))
    assert.deepEqual(keys(store), ['a', 'c', 'd'])
    assert.ok(store.size() <= one * 3.5)
  })

  it('does not store an entry larger than maxSize, drops the older entry under its key, and does not throw', () => {
    const store = new MemoryStore({ maxSize: 5000 })
    store.set('k', makeEntry({ key: 'k' }))
    store.set('k', makeEntry({ key: 'k', body: new Uint8Array(6000) }))
    assert.equal(store.get('k'), undefined)
    assert.equal(store.size(), 0)
  })

  it('does not count a read through records() as a use', () => {
    const store = new MemoryStore({ maxEntries: 2 })
    store.set('a', makeEntry({ key: 'a' }))
    store.set('b', makeEntry({ key: 'b' }))
    for (const _ of store.records());
    store.set('c', makeEntry({ key: 'c' }))
    assert.deepEqual(keys(store), ['b', 'c'])
  })

  it('keeps a copy: changing the object given afterwards does not change what is stored', () => {
    const store = new MemoryStore()
    const entry = makeEntry({ key: 'k', status: 200 })
    store.set('k', entry)
    entry.status = 500
    entry.body[0] = 42
    const stored = store.get('k')
    assert.equal(stored?.status, 200)
    assert.notEqual(stored?.body[0], 42)
    assert.equal(store.get('k'), stored, 'a hot entry is decoded once')
  })

  it('gives each instance its own secret', () => {
    assert.notEqual(new MemoryStore().secret, new MemoryStore().secret)
  })

  describe('options', () => {
    const cases: [string, Record<string, unknown>, typeof InvalidOptionTypeError | typeof InvalidOptionValueError, string][] = [
      ['a string maxEntries', { maxEntries: '10' }, InvalidOptionTypeError, 'maxEntries'],
      ['a zero maxEntries', { maxEntries: 0 }, InvalidOptionValueError, 'maxEntries'],
      ['an infinite maxSize', { maxSize: Number.POSITIVE_INFINITY }, InvalidOptionValueError, 'maxSize'],
      ['an unknown option', { ttl: 1000 }, InvalidOptionValueError, 'ttl'],
    ]
    for (const [what, options, type, option] of cases) {
      it(`reject ${what}, naming the option`, () => {
        assert.throws(
          () => new MemoryStore(options as MemoryStoreOptions),
          (error: unknown) =>
            error instanceof type && error.option === option && error.code === 'FETCH_HTTP_CACHE_INVALID_OPTION',
        )
      })
    }
  })
})
