import type { CacheEntry, EntryMeta } from './entry.js'

/** A value, or a promise of it: stores may answer synchronously (SQLite, memory) or not (network). */
export type MaybePromise<T> = T | Promise<T>

/** Whether a `MaybePromise` is the promise (a thenable). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * One row as iteration sees it. `entry` is `undefined` when the row exists but cannot be read
 * (corrupt, or written by an incompatible version): such rows count as `invalid`.
 */
export interface StoreRecord {
  key: string
  entry: CacheEntry | undefined
}

/** One row's metadata, without its body (`meta` is `undefined` when the row cannot be read). */
export interface MetaRecord {
  key: string
  meta: EntryMeta | undefined
  /** The stored body's length in bytes. */
  bodySize: number
}

/**
 * The contract every store keeps. Kept small on purpose, so a networked store can follow.
 *
 * - `get` returns `undefined` for a missing key, and for a row that cannot be read (which it deletes).
 * - `set` replaces the entry under the key atomically: a reader never sees half an entry.
 * - Writes may be committed behind the caller (the SQLite store does: the request path never waits for
 *   another process's lock), but `get` and `records` in the same process see them at once, in order.
 *   `close` commits what is pending.
 * - Stores keep expired entries: they can still be revalidated or served stale. Expiry only orders
 *   pruning when a size bound is reached.
 */
export interface Store {
  get(key: string): MaybePromise<CacheEntry | undefined>
  set(key: string, entry: CacheEntry): MaybePromise<void>
  /**
   * Optional: stores several entries at once, atomically (a `Vary` marker with its variant), so a
   * reader on another machine never sees one without the other. Without it, `set()` once per entry.
   */
  setAll?(entries: readonly KeyedEntry[]): MaybePromise<void>
  delete(keys: readonly string[]): MaybePromise<void>
  clear(): MaybePromise<void>
  /** Every row, readable or not. */
  records(): Iterable<StoreRecord> | AsyncIterable<StoreRecord>
  close(): MaybePromise<void>
  /**
   * Optional: the bytes the store holds, by its own count (`cache.size()` sums the entries'
   * `entrySize()` over `records()` when a store has no cheaper way).
   */
  size?(): MaybePromise<number>
  /**
   * Optional: resolves once the writes accepted so far are committed where other processes see them
   * (or given up and reported). A store that writes synchronously needs none.
   */
  flush?(): MaybePromise<void>
  /**
   * Optional: replace the metadata (headers, times, expiry) of the response stored under `key` at
   * `storedAt` (its `createdAt`), keeping its body: what a 304 does (RFC 9111 §4.3.4). Nothing is
   * written when the response there is not that one any more (replaced or deleted meanwhile), so new
   * metadata never lands on another body. Without it, callers `set` the whole entry again.
   */
  refresh?(key: string, meta: EntryMeta, storedAt: number): MaybePromise<void>
  /** Optional: the metadata of the row under `key`, without reading its body (else `get`). */
  getMeta?(key: string): MaybePromise<MetaRecord | undefined>
  /**
   * Optional: every row's metadata, without reading bodies (else `records()`): what listing, counting
   * and deleting read. Sees this process's pending writes, as `records()` does.
   */
  metaRecords?(): Iterable<MetaRecord> | AsyncIterable<MetaRecord>
  /**
   * A random secret, stable for the life of the stored data, used to hash credentials into keys
   * (so a stored key never reveals a token, and a restart still finds the entries).
   */
  readonly secret: string
  /**
   * Optional, for a store that learns its `secret` over the network (Redis): resolves once it has
   * the shared one, or once it gave up waiting (bounded by its own timeout); never rejects. Until
   * then `secret` is a provisional one and writes are dropped, so nothing is stored under a key
   * other machines would not compute. Awaiting it before the first key makes the first requests
   * of a process cacheable too.
   */
  ready?(): Promise<void>
}

/** An entry with the key to store it under. */
export interface KeyedEntry {
  key: string
  entry: CacheEntry
}
