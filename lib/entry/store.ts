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
 * The contract every store keeps: six methods and a secret. Kept small on purpose, so a custom or
 * networked store is quick to write; what a store can do beyond it is a capability below, detected
 * once when the store is opened ({@link capabilities}).
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
  /** `false`: not kept, as larger than the store holds (and the key no longer serves an older entry). */
  set(key: string, entry: CacheEntry): MaybePromise<unknown>
  delete(keys: readonly string[]): MaybePromise<void>
  clear(): MaybePromise<void>
  /** Every row, readable or not. */
  records(): Iterable<StoreRecord> | AsyncIterable<StoreRecord>
  close(): MaybePromise<void>
  /**
   * A random secret, stable for the life of the stored data, used to hash credentials into keys
   * (so a stored key never reveals a token, and a restart still finds the entries).
   */
  readonly secret: string
}

/** Capability: a 304 rewrites an entry's metadata only (else the engine `set`s the whole entry again). */
export interface RefreshingStore {
  /**
   * Replaces the metadata (headers, times, expiry) of the response stored under `key` at `storedAt`
   * (its `createdAt`), keeping its body: what a 304 does (RFC 9111 §4.3.4). Nothing is written when
   * the response there is not that one any more (replaced or deleted meanwhile), so new metadata never
   * lands on another body.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): MaybePromise<void>
}

/** Capability: metadata read without bodies (else maintenance reads whole entries). */
export interface MetadataStore {
  /** The metadata of the row under `key`, without reading its body. */
  getMeta(key: string): MaybePromise<MetaRecord | undefined>
  /** Every row's metadata, without bodies; sees this process's pending writes, as `records()` does. */
  metaRecords(): Iterable<MetaRecord> | AsyncIterable<MetaRecord>
}

/** Capability: several entries written atomically (else `set` once per entry). */
export interface BatchingStore {
  /** Stores a `Vary` marker with its variant at once, so a reader elsewhere never sees one without the other. */
  setAll(entries: readonly KeyedEntry[]): MaybePromise<void>
}

/** Capability: writes committed behind the caller can be waited for (a store that writes synchronously needs none). */
export interface FlushingStore {
  /** Resolves once the writes accepted so far are committed where other processes see them (or given up and reported). */
  flush(): MaybePromise<void>
}

/** Capability: a store that learns its `secret` over the network (Redis). */
export interface ReadyingStore {
  /**
   * Resolves once it has the shared secret, or once it gave up waiting (bounded by its own timeout);
   * never rejects. Until then `secret` is a provisional one and writes are dropped, so nothing is
   * stored under a key other machines would not compute.
   */
  ready(): Promise<void>
}

/** Capability: the keys stored for a URL found without reading every row (else invalidation reads each row's metadata). */
export interface UrlIndexedStore {
  /**
   * The keys of every row whose entry's `url` is `url` exactly (as stored: credential parameters
   * hashed, ignored ones redacted), whichever request it answered: every credential partition and
   * `Vary` variant, and the markers. Sees this process's pending writes; may list a key deleted since.
   */
  keysForUrl(url: string): MaybePromise<string[]>
}

/** Capability: the store counts its own bytes (else `cache.size()` sums `entrySize()` over the rows). */
export interface SizedStore {
  size(): MaybePromise<number>
}

/** What a store can do beyond the core: each present capability is the store itself, typed for it. */
export interface StoreCapabilities {
  readonly refresh: RefreshingStore | undefined
  readonly metadata: MetadataStore | undefined
  readonly batch: BatchingStore | undefined
  readonly flush: FlushingStore | undefined
  readonly ready: ReadyingStore | undefined
  readonly size: SizedStore | undefined
  readonly urls: UrlIndexedStore | undefined
}

/**
 * The capabilities of a store, detected once when it is opened (by the methods it has), so callers
 * test for a capability, never for a method at each call. A store implementing only the core works.
 */
export function capabilities(store: Store): StoreCapabilities {
  const has = (...names: string[]) =>
    names.every((name) => typeof (store as unknown as Record<string, unknown>)[name] === 'function')
  return Object.freeze({
    refresh: has('refresh') ? (store as Store & RefreshingStore) : undefined,
    metadata: has('getMeta', 'metaRecords') ? (store as Store & MetadataStore) : undefined,
    batch: has('setAll') ? (store as Store & BatchingStore) : undefined,
    flush: has('flush') ? (store as Store & FlushingStore) : undefined,
    ready: has('ready') ? (store as Store & ReadyingStore) : undefined,
    size: has('size') ? (store as Store & SizedStore) : undefined,
    urls: has('keysForUrl') ? (store as Store & UrlIndexedStore) : undefined,
  })
}

/** An entry with the key to store it under. */
export interface KeyedEntry {
  key: string
  entry: CacheEntry
}
