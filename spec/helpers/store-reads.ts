import type { Store, StoreRecord } from '../../lib/entry/store.js'

/**
 * What a store holds, read through `records()` (every row, readable or not), so tests inspect any
 * store the same way without the store carrying methods only tests would call.
 */

/** Every record, in the store's order. Sync and async stores alike. */
export async function collect(records: Iterable<StoreRecord> | AsyncIterable<StoreRecord>): Promise<StoreRecord[]> {
  const out: StoreRecord[] = []
  for await (const record of records) out.push(record)
  return out
}

/** The key of every row, sorted. */
export async function storedKeys(store: Pick<Store, 'records'>): Promise<string[]> {
  return (await collect(store.records())).map((r) => r.key).sort()
}

/** How many rows the store holds: Vary markers and unreadable rows included. */
export async function storedCount(store: Pick<Store, 'records'>): Promise<number> {
  let count = 0
  for await (const _ of store.records()) count++
  return count
}

/** The distinct (normalized request) URLs of the readable entries, sorted. */
export async function storedUrls(store: Pick<Store, 'records'>): Promise<string[]> {
  const urls = new Set<string>()
  for await (const { entry } of store.records()) if (entry) urls.add(entry.url)
  return [...urls].sort()
}
