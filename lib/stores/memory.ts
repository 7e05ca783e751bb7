import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type CacheEntry, ENTRY_VERSION, entrySize } from '../entry.js'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import type { Store, StoreRecord } from './store.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most entries kept; past it the least-recently-used one is evicted.
   * @default 10_000
   */
  maxEntries?: number
  /**
   * The most bytes kept, as counted by `entrySize()`; past it least-recently-used entries are
   * evicted. An entry larger than this is not stored.
   * @default 268_435_456 (256 MiB)
   */
  maxSize?: number
}

const DEFAULTS = Object.freeze({ maxEntries: 10_000, maxSize: 256 * 1024 * 1024 })

const KNOWN_OPTIONS: { [K in keyof MemoryStoreOptions]-?: true } = { maxEntries: true, maxSize: true }

/**
 * A {@link Store} in this process's memory, bounded by entries and bytes with LRU eviction.
 * Entries are kept as given (treat them as immutable) and without TTL: expired entries stay until
 * evicted, since they can still be revalidated or served stale.
 */
export class MemoryStore implements Store {
  /** Random per instance: the entries do not outlive it, so neither must the secret. */
  readonly secret: string = randomBytes(32).toString('hex')
  readonly #lru: LRUCache<string, CacheEntry>

  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(options)
    const { maxEntries = DEFAULTS.maxEntries, maxSize = DEFAULTS.maxSize } = options
    // lru-cache skips (and deletes the old value of) an entry larger than maxSize instead of throwing.
    this.#lru = new LRUCache({ max: maxEntries, maxSize, sizeCalculation: entrySize })
  }

  /** The entry under `key`, or `undefined` (an entry of another version is deleted). Marks it recently used. */
  get(key: string): CacheEntry | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined || entry.v === ENTRY_VERSION) return entry
    this.#lru.delete(key)
    return undefined
  }

  /** Store `entry` under `key`, replacing any entry there; evicts LRU entries past the bounds. */
  set(key: string, entry: CacheEntry): void {
    this.#lru.set(key, entry)
  }

  /** Delete the entries under `keys`. Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    for (const key of keys) this.#lru.delete(key)
  }

  /** Delete every entry. */
  clear(): void {
    this.#lru.clear()
  }

  /** Every entry, most recently used first, without changing recency; safe to write while iterating. */
  *records(): Generator<StoreRecord, void, undefined> {
    for (const key of [...this.#lru.keys()]) {
      const entry = this.#lru.peek(key)
      if (entry === undefined) continue // deleted since the snapshot
      yield { key, entry: entry.v === ENTRY_VERSION ? entry : undefined }
    }
  }

  /** Stored bytes, as counted by `entrySize()`. */
  size(): number {
    return this.#lru.calculatedSize
  }

  /** The number of stored entries. */
  count(): number {
    return this.#lru.size
  }

  /** The distinct (normalized request) URLs stored, sorted. */
  urls(): string[] {
    const urls = new Set<string>()
    for (const entry of this.#lru.values()) urls.add(entry.url)
    return [...urls].sort()
  }

  /** Delete the entries that expire at or before `now` (ms); returns how many were deleted. */
  deleteExpired(now: number): number {
    return this.#deleteWhere((entry) => entry.expires !== null && entry.expires <= now)
  }

  /** Delete the entries created (or last revalidated) before `createdBefore` (ms); returns how many. */
  deleteOlderThan(createdBefore: number): number {
    return this.#deleteWhere((entry) => entry.createdAt < createdBefore)
  }

  /** Drop every entry: a memory store has nothing else to release. */
  close(): void {
    this.#lru.clear()
  }

  #deleteWhere(matches: (entry: CacheEntry) => boolean): number {
    const keys: string[] = []
    for (const [key, entry] of this.#lru.entries()) if (matches(entry)) keys.push(key)
    for (const key of keys) this.#lru.delete(key)
    return keys.length
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
}
