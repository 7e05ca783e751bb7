import { realTimers } from '../engine/timers.js'
import { isCurrentEntry } from '../entry/codec.js'
import type { CacheEntry, EntryMeta } from '../entry/entry.js'
import type { Segment } from './pending-writes.js'

interface Recent {
  entry: CacheEntry
  /** The row's `accessed_at` as last read or written, for the LRU touch. */
  accessedAt: number
  size: number
}

/**
 * Entries the SQLite store read or committed recently, kept decoded in this process so a repeated hit
 * skips the row read and the JSON parse. They stand for their rows while no other connection has
 * committed since the mark (`PRAGMA data_version`, read once per turn of the event loop, not per
 * hit: the pragma opens a read transaction, about a third of a SQLite hit); another process's commit
 * is seen from the next turn on. What the store writes itself replaces its copy once committed.
 * Bounded by count and bytes; least recently used first out.
 */
export class RecentEntries {
  readonly #map = new Map<string, Recent>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #readVersion: () => number | undefined
  #bytes = 0
  #version: number | undefined
  /** The version was read in this turn of the event loop. */
  #versionRead = false
  readonly #nextTurn = (): void => {
    this.#versionRead = false
  }

  /** `readVersion`: the connection's `PRAGMA data_version`. */
  constructor(maxEntries: number, maxBytes: number, readVersion: () => number | undefined) {
    this.#maxEntries = maxEntries
    this.#maxBytes = maxBytes
    this.#readVersion = readVersion
  }

  /**
   * Whether no other connection has committed since the copies were read (read once per turn). When
   * one has, they are dropped and the new version becomes the mark, so the next row read may be kept.
   */
  unchanged(): boolean {
    if (this.#versionRead) return true
    this.#versionRead = true
    realTimers.setImmediate(this.#nextTurn).unref()
    return this.#mark()
  }

  /** The file was replaced: nothing kept, no mark. */
  reset(): void {
    this.clear()
    this.#version = undefined
    this.#versionRead = false
  }

  /**
   * Copies of what `segments` wrote are stale once they land or are given up. Once committed, a
   * written entry becomes the copy (it is what its row holds now) when it reads back as it is (the
   * current format, its facts included), and a 304's is renewed. `rowsGone`: the commit deleted rows
   * its writes do not name (pruning past `maxSize`, an entry too big to keep); sweeps do too.
   */
  written(segments: readonly Segment[], committed: boolean, rowsGone: boolean): void {
    if (rowsGone || segments.some((segment) => segment.sweep)) {
      this.clear()
      return
    }
    // Read after the commit, so the copies kept date from the mark; the turn's own read is left to the
    // next lookup, which still sees what another connection committed since.
    const keep = committed && this.#markQuietly()
    for (const segment of segments)
      for (const [key, write] of segment.writes) {
        if (keep && write.kind === 'set' && isCurrentEntry(write.entry)) this.set(key, write.entry, write.accessedAt)
        else if (committed && write.kind === 'refresh') this.refreshed(key, write.meta, write.storedAt, write.accessedAt)
        else this.delete(key)
      }
  }

  /** Reads the version: `true` if it is the mark; else drops the copies and makes it the mark. */
  #mark(): boolean {
    const version = this.#readVersion()
    if (version === this.#version) return true
    this.clear()
    this.#version = version
    return false
  }

  /** {@link #mark}, `false` (and nothing kept) when the version cannot be read. */
  #markQuietly(): boolean {
    try {
      this.#mark()
      return true
    } catch {
      this.clear()
      return false
    }
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
