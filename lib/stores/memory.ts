import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { isCurrentEntry, upgraded } from '../entry/codec.js'
import { type CacheEntry, type EntryMeta, entrySize } from '../entry/entry.js'
import type {
  MetadataStore,
  MetaRecord,
  RefreshingStore,
  SizedStore,
  Store,
  StoreRecord,
  UrlIndexedStore,
} from '../entry/store.js'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { evictionsWatched, publishEvicted } from '../observe/events.js'
import { frozenEntry } from './frozen-entry.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most entries kept; past it the least-recently-used one is evicted.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * The most bytes kept (bodies, metadata and the objects around them, as `entrySize()` counts them);
   * past it least-recently-used entries are evicted. An entry larger than this is not stored.
   * @default 268_435_456 (256 MiB)
   */
  maxSize?: number
}

const DEFAULTS = Object.freeze({ maxEntries: 10_000, maxSize: 256 * 1024 * 1024 })
/**
 * lru-cache reserves its slots up front (about 36 bytes each): 2^24 of them is about 600 MB, and 2^32
 * is past what an array holds (a plain `RangeError` from inside lru-cache).
 */
const MAX_ENTRIES = 2 ** 24

/** What an entry that cannot be read (another version, another shape) is kept as: listed, never served. */
const UNREADABLE = Object.freeze({ unreadable: true })
type Stored = CacheEntry | typeof UNREADABLE
/** What an unreadable row counts for against `maxSize`. */
const UNREADABLE_SIZE = 64

const KNOWN_OPTIONS: { [K in keyof MemoryStoreOptions]-?: true } = { maxEntries: true, maxSize: true }

/**
 * A {@link Store} in this process's memory, bounded by entries and bytes with LRU eviction.
 *
 * Entries are kept decoded and immutable (see frozen-entry.ts): a hit is a lookup that hands out the
 * stored object, whichever of many URLs it is for, with nothing to parse. bench/README.md has the
 * measurement that chose this over packed bytes (faster on every hit, and less memory per entry).
 * Entries are kept without TTL: expired entries stay until evicted, since they can still be
 * revalidated or served stale.
 */
export class MemoryStore implements Store, RefreshingStore, MetadataStore, SizedStore, UrlIndexedStore {
  /** Random per instance: the entries do not outlive it, so neither must the secret. */
  readonly secret: string = randomBytes(32).toString('hex')
  readonly #lru: LRUCache<string, Stored>
  /** The keys of each stored URL (an entry's `url`), kept with the LRU: what invalidation removes. */
  readonly #byUrl = new Map<string, Set<string>>()

  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(options)
    const { maxEntries = DEFAULTS.maxEntries, maxSize = DEFAULTS.maxSize } = options
    // lru-cache skips (and deletes the old value of) an entry larger than maxSize instead of throwing.
    this.#lru = new LRUCache({
      max: maxEntries,
      maxSize,
      sizeCalculation: (stored, key) => (stored === UNREADABLE ? UNREADABLE_SIZE : entrySize(stored as CacheEntry)) + key.length,
      dispose: (stored, key, reason) => {
        if (stored !== UNREADABLE) this.#unindex((stored as CacheEntry).url, key)
        if (reason !== 'evict' || !evictionsWatched()) return
        const url = stored === UNREADABLE ? '' : (stored as CacheEntry).url
        publishEvicted({ keys: [key], urls: [url], reason: 'least recently used', store: 'memory' })
      },
    })
  }

  /**
   * The entry under `key` (a frozen object: treat it as read-only), or `undefined` (one that cannot be
   * read is deleted). Marks it recently used.
   */
  get(key: string): CacheEntry | undefined {
    const stored = this.#lru.get(key)
    if (stored !== UNREADABLE) return stored as CacheEntry | undefined
    this.#lru.delete(key)
    return undefined
  }

  /**
   * Store a frozen copy of `entry` under `key`, replacing any entry there; evicts LRU entries past the
   * bounds. `false` when it is larger than maxSize: lru-cache then keeps it out, and drops the old value.
   */
  set(key: string, entry: CacheEntry): boolean {
    const meta = readable(entry)
    const stored = meta && entry.body instanceof Uint8Array ? frozenEntry(meta, entry.body) : UNREADABLE
    // Indexed after the write: replacing a value disposes of the old one (and its index entry) first.
    this.#lru.set(key, stored)
    const kept = this.#lru.has(key)
    if (kept && stored !== UNREADABLE) this.#index((stored as CacheEntry).url, key)
    return kept
  }

  /**
   * Replace the metadata of the response under `key` stored at `storedAt` (its `createdAt`), keeping
   * its body (a 304). Nothing is written if that response was replaced or deleted meanwhile.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): void {
    const current = this.#peek(key)
    const readMeta = readable(meta)
    if (current === undefined || current.createdAt !== storedAt || !readMeta) return
    const refreshed = frozenEntry(readMeta, current.body, true)
    this.#lru.set(key, refreshed)
    if (this.#lru.has(key)) this.#index(refreshed.url, key)
  }

  /** The keys of every entry stored for `url` (its `url` exactly). */
  keysForUrl(url: string): string[] {
    return [...(this.#byUrl.get(url) ?? [])]
  }

  /** The metadata of the entry under `key` (the stored object), without marking it used. */
  getMeta(key: string): MetaRecord | undefined {
    if (!this.#lru.has(key)) return undefined
    const entry = this.#peek(key)
    return { key, meta: entry, bodySize: entry?.body.byteLength ?? 0 }
  }

  /** Delete the entries under `keys`. Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    for (const key of keys) this.#lru.delete(key)
  }

  /** Delete every entry. */
  clear(): void {
    this.#lru.clear()
    this.#byUrl.clear()
  }

  /** Every entry, most recently used first, without changing recency; safe to write while iterating. */
  *records(): Generator<StoreRecord, void, undefined> {
    for (const key of [...this.#lru.keys()]) {
      if (this.#lru.has(key)) yield { key, entry: this.#peek(key) } // else deleted since the snapshot
    }
  }

  /** Every entry's metadata (the stored objects), most recently used first, without changing recency. */
  *metaRecords(): Generator<MetaRecord, void, undefined> {
    for (const { key, entry } of this.records()) yield { key, meta: entry, bodySize: entry?.body.byteLength ?? 0 }
  }

  /** Stored bytes, as `entrySize()` counts them (bodies, metadata and the objects around them). */
  size(): number {
    return this.#lru.calculatedSize
  }

  /** Drop every entry: a memory store has nothing else to release. */
  close(): void {
    this.clear()
  }

  #index(url: string, key: string): void {
    const keys = this.#byUrl.get(url)
    if (keys) keys.add(key)
    else this.#byUrl.set(url, new Set([key]))
  }

  #unindex(url: string, key: string): void {
    const keys = this.#byUrl.get(url)
    if (!keys?.delete(key)) return
    if (keys.size === 0) this.#byUrl.delete(url)
  }

  /** The readable entry under `key`, without marking it used. */
  #peek(key: string): CacheEntry | undefined {
    const stored = this.#lru.peek(key)
    return stored === UNREADABLE ? undefined : (stored as CacheEntry | undefined)
  }
}

function checkOptions(options: MemoryStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, name)) {
      throw new InvalidOptionValueError(name, (options as Record<string, unknown>)[name], 'is not an option of MemoryStore')
    }
  }
  for (const name of ['maxEntries', 'maxSize'] as const) {
    const value: unknown = options[name]
    if (value === undefined) continue
    if (typeof value !== 'number') throw new InvalidOptionTypeError(name, value, 'a number')
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionValueError(name, value, 'must be an integer >= 1')
  }
  if (options.maxEntries !== undefined && options.maxEntries > MAX_ENTRIES) {
    throw new InvalidOptionValueError(
      'maxEntries',
      options.maxEntries,
      `must be at most ${MAX_ENTRIES} (each slot is reserved up front)`,
    )
  }
}

/**
 * `meta` as the stores on disk read it (entry/codec.ts): a current entry with its freshness facts as
 * it is; one of an older format, or without its facts, upgraded (a copy); `undefined` if unreadable.
 */
function readable(meta: EntryMeta): EntryMeta | undefined {
  return isCurrentEntry(meta) ? meta : upgraded({ ...meta })
}
