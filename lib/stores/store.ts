import type { CacheEntry } from './entry.js'

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

/**
 * The contract every store keeps. Kept small on purpose, so a networked store can follow.
 *
 * - `get` returns `undefined` for a missing key, and for a row that cannot be read (which it deletes).
 * - `set` replaces the entry under the key atomically: a reader never sees half an entry.
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
