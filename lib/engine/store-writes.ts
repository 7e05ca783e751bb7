import type { KeyedEntry, Store, StoreCapabilities } from '../entry/store.js'

/**
 * The store's writes of `writes`, as one promise of what each `set` answered (`false`: not kept):
 * together where the store can (one script on Redis), so no reader sees a Vary marker without its
 * variant; all at once on a store that writes behind; else one after the other. Throws what the
 * store throws at once.
 */
export function writeAll(store: Store, capabilities: StoreCapabilities, writes: KeyedEntry[]): Promise<unknown[]> {
  const { batch } = capabilities
  if (writes.length > 1 && batch) return Promise.resolve(batch.setAll(writes)).then(() => [])
  if (capabilities.flush || writes.length === 1) return Promise.all(writes.map(({ key, entry }) => store.set(key, entry)))
  return writes.reduce<Promise<unknown[]>>(
    (before, { key, entry }) => before.then(async (kept) => [...kept, await store.set(key, entry)]),
    Promise.resolve([]),
  )
}
