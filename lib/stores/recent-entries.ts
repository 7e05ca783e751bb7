import type { CacheEntry, EntryMeta } from '../entry/entry.js'

interface Recent {
  entry: CacheEntry
  /** The row's `accessed_at` as last read or written, for the LRU touch. */
  accessedAt: number
  size: number
}

/**
 * Entries the SQLite store read recently, kept decoded in this process so a repeated hit skips the
 * row read and the JSON parse. The store empties it whenever the file may have changed under it
 * (another connection wrote: `PRAGMA data_version` moved, read once per turn of the event loop) and
 * drops what it writes itself.
 * Bounded by count and bytes; least recently used first out.
 */
export class RecentEntries {
  readonly #map = new Map<string, Recent>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
  }

  get(key: string): Recent | undefined {
    const recent = this.#map.get(key)
    if (recent) {
      // Map keeps insertion order: re-inserting marks it most recently used.
      this.#map.delete(key)
      this.#map.set(key, recent)
    }
    return recent
  }

  set(key: string, entry: CacheEntry, accessedAt: number): void {
    this.delete(key)
    const size = entry.body.byteLength + 512
    if (size > this.#maxBytes / 4) return // large bodies would push everything else out
    this.#map.set(key, { entry, accessedAt, size })
    this.#bytes += size
    for (const [oldest, recent] of this.#map) {
      if (this.#map.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      this.#map.delete(oldest)
      this.#bytes -= recent.size
    }
  }

  /**
   * A 304's new metadata, committed to the row read as the copy kept here (`storedAt`, its
   * `createdAt`): the copy takes it and keeps its body, as the row did, so the next revalidation reads
   * no row. Any other copy of `key` is dropped.
   */
  refreshed(key: string, meta: EntryMeta, storedAt: number, accessedAt: number): void {
    const recent = this.#map.get(key)
    if (recent?.entry.createdAt === storedAt) this.set(key, { ...meta, body: recent.entry.body }, accessedAt)
    else this.delete(key)
  }

  delete(key: string): void {
    const recent = this.#map.get(key)
    if (!recent) return
    this.#map.delete(key)
    this.#bytes -= recent.size
  }

  clear(): void {
    this.#map.clear()
    this.#bytes = 0
  }
}
