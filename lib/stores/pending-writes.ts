import type { CacheEntry } from '../entry/entry.js'

/**
 * The SQLite store's writes that this process accepted and has not committed yet (write-behind: a
 * request never waits for the file's write lock). It answers lookups, so a process reads its own
 * writes before they are committed, and it merges writes to one key: only the last one matters.
 *
 * Order: writes to one key keep their order; a sweep (a clear: every row goes) is ordered against
 * the key writes around it by closing the current segment. Writes commit oldest segment first, in
 * batches of bounded size (a transaction each, so the event loop gets turns between them); a sweep
 * commits with the last writes of its segment. What a batch holds is either all committed or none.
 */

/**
 * Told when a write is committed (no argument) or given up (the error). A write replaced by a later
 * one to the same key hands its confirmations on: the key then holds what came after it.
 */
export type Confirm = (failure?: Error) => void

/** The latest accepted write to one key. */
export type KeyWrite =
  | { kind: 'set'; entry: CacheEntry; accessedAt: number; confirm?: Confirm[] }
  | { kind: 'delete'; confirm?: Confirm[] }
  /** New metadata for the response stored at `storedAt` (its `createdAt`); its body is kept. */
  | { kind: 'refresh'; meta: Omit<CacheEntry, 'body'>; storedAt: number; accessedAt: number }
  /** A use, for least-recently-used pruning. */
  | { kind: 'touch'; accessedAt: number }

/** A sweep (a clear: every row goes) and whoever waits for it: told once committed (no argument) or given up (the error). */
export interface PendingSweep {
  settle(failure?: Error): void
}

/** Key writes, then the sweep that closed the segment (the last segment has none). */
export interface Segment {
  readonly writes: Map<string, KeyWrite>
  sweep: PendingSweep | undefined
}

/** The oldest pending writes, up to a bound: what one transaction commits. */
export interface Batch {
  /** Parts of the oldest segments, in order; a segment's sweep only with its last writes. */
  readonly segments: readonly Segment[]
  /** Whether it holds everything pending. */
  readonly all: boolean
}

export class PendingWrites {
  #segments: Segment[] = [newSegment()]
  /** Body bytes held by pending sets: what the write-behind buffer costs in memory. */
  #bytes = 0
  #count = 0

  /** Nothing is pending. */
  get empty(): boolean {
    return this.#count === 0
  }

  /** Body bytes held by pending sets. */
  get bytes(): number {
    return this.#bytes
  }

  /** Key writes and sweeps pending. */
  get size(): number {
    return this.#count
  }

  /** Everything pending, oldest segment first: what a commit applies. */
  get segments(): readonly Segment[] {
    return this.#segments
  }

  /** A set of `key`; `confirm` is told once it is committed or given up. */
  set(key: string, entry: CacheEntry, accessedAt: number, confirm?: Confirm): void {
    this.#put(key, { kind: 'set', entry, accessedAt, ...(confirm ? { confirm: [confirm] } : {}) })
  }

  delete(key: string): void {
    this.#put(key, { kind: 'delete' })
  }

  /**
   * New metadata for the response under `key` stored at `storedAt`. Merged into a pending set or
   * refresh of that same response; dropped when what is pending there is another response (the one
   * revalidated was replaced or deleted meanwhile, and its metadata must not land on another body).
   */
  refresh(key: string, meta: Omit<CacheEntry, 'body'>, storedAt: number, accessedAt: number): void {
    const last = this.#last.writes.get(key)
    if (last === undefined || last.kind === 'touch') {
      this.#put(key, { kind: 'refresh', meta, storedAt, accessedAt })
    } else if (last.kind === 'set') {
      if (last.entry.createdAt === storedAt) this.#put(key, { kind: 'set', entry: withBody(meta, last.entry.body), accessedAt })
    } else if (last.kind === 'refresh') {
      if (last.meta.createdAt === storedAt) this.#put(key, { kind: 'refresh', meta, storedAt: last.storedAt, accessedAt })
    }
  }

  /** A use of `key`: folded into a pending set or refresh, else pending on its own. */
  touch(key: string, accessedAt: number): void {
    const last = this.#last.writes.get(key)
    if (last === undefined) this.#put(key, { kind: 'touch', accessedAt })
    else if (last.kind === 'set' || last.kind === 'refresh' || last.kind === 'touch') last.accessedAt = accessedAt
  }

  /** A sweep, after every write accepted so far and before every later one. */
  sweep(pending: PendingSweep): void {
    this.#last.sweep = pending
    this.#segments.push(newSegment())
    this.#count++
  }

  /**
   * What `key` holds once everything pending has landed; `committed` reads the row as committed
   * (called only when the pending writes do not decide alone).
   */
  lookup(key: string, committed: () => CacheEntry | undefined): CacheEntry | undefined {
    if (this.#count === 0) return committed()
    return this.#view(key, this.#segments.length - 1, committed)
  }

  /** Whether a write to `key` is pending (a lookup then needs no touch of its own). */
  has(key: string): boolean {
    if (this.#count === 0) return false
    for (const segment of this.#segments) if (segment.writes.has(key)) return true
    return false
  }

  /** The oldest pending writes: at most `maxWrites` key writes, and past `maxBytes` of bodies no more. */
  batch(maxWrites: number, maxBytes: number): Batch {
    const segments: Segment[] = []
    let writes = 0
    let bytes = 0
    for (const segment of this.#segments) {
      const part = new Map<string, KeyWrite>()
      for (const [key, write] of segment.writes) {
        if (writes >= maxWrites || bytes >= maxBytes) {
          segments.push({ writes: part, sweep: undefined })
          return { segments, all: false }
        }
        part.set(key, write)
        writes++
        if (write.kind === 'set') bytes += write.entry.body.byteLength
      }
      segments.push({ writes: part, sweep: segment.sweep })
    }
    return { segments, all: true }
  }

  /** `batch` is committed: forget it; returns its sweeps, to settle. Nothing else ran since `batch()`. */
  committed(batch: Batch): PendingSweep[] {
    if (batch.all) return this.take()
    const sweeps: PendingSweep[] = []
    for (const [i, part] of batch.segments.entries()) {
      const segment = this.#segments[i] as Segment
      for (const key of part.writes.keys()) {
        const write = segment.writes.get(key)
        if (write) confirmAll(write)
        if (write?.kind === 'set') this.#bytes -= write.entry.body.byteLength
        segment.writes.delete(key)
        this.#count--
      }
      if (part.sweep) {
        sweeps.push(part.sweep)
        this.#count--
      }
    }
    // Whole segments committed (writes and sweep) go; the last segment always stays.
    while (
      this.#segments.length > 1 &&
      this.#segments[0]?.writes.size === 0 &&
      sweeps.includes(this.#segments[0].sweep as PendingSweep)
    ) {
      this.#segments.shift()
    }
    return sweeps
  }

  /**
   * Forget everything pending: committed, or given up (`failure`, which the writes' confirmations
   * are told); returns the sweeps, to settle.
   */
  take(failure?: Error): PendingSweep[] {
    const sweeps: PendingSweep[] = []
    for (const segment of this.#segments) {
      if (segment.sweep) sweeps.push(segment.sweep)
      for (const write of segment.writes.values()) confirmAll(write, failure)
    }
    this.#segments = [newSegment()]
    this.#bytes = 0
    this.#count = 0
    return sweeps
  }

  get #last(): Segment {
    return this.#segments.at(-1) as Segment
  }

  /** Whether any key write pending has nobody waiting for its confirmation (a give-up must then be reported). */
  get unconfirmed(): boolean {
    for (const segment of this.#segments) for (const write of segment.writes.values()) if (!hasConfirm(write)) return true
    return false
  }

  #put(key: string, write: KeyWrite): void {
    const writes = this.#last.writes
    const before = writes.get(key)
    // The key will hold this write: whoever waited for the one it replaces learns of it with this one.
    if (before && hasConfirm(before) && (write.kind === 'set' || write.kind === 'delete')) {
      write.confirm = [...before.confirm, ...(write.confirm ?? [])]
    }
    if (before?.kind === 'set') this.#bytes -= before.entry.body.byteLength
    else if (before === undefined) this.#count++
    if (write.kind === 'set') this.#bytes += write.entry.body.byteLength
    writes.set(key, write)
  }

  /** `key` after the segments up to `upTo` (their writes, then their sweeps). */
  #view(key: string, upTo: number, committed: () => CacheEntry | undefined): CacheEntry | undefined {
    for (let i = upTo; i >= 0; i--) {
      const write = this.#segments[i]?.writes.get(key)
      if (write === undefined || write.kind === 'touch') continue
      let entry: CacheEntry | undefined
      if (write.kind === 'set') entry = write.entry
      else if (write.kind === 'refresh') {
        const base = this.#view(key, i - 1, committed)
        entry = base !== undefined && base.createdAt === write.storedAt ? withBody(write.meta, base.body) : base
      }
      return this.#swept(entry, i, upTo)
    }
    return this.#swept(committed(), 0, upTo)
  }

  /** `entry` after the sweeps of segments `from` to `upTo`: gone if any of them cleared the rows. */
  #swept(entry: CacheEntry | undefined, from: number, upTo: number): CacheEntry | undefined {
    for (let i = from; i <= upTo; i++) if (this.#segments[i]?.sweep !== undefined) return undefined
    return entry
  }
}

function hasConfirm(write: KeyWrite): write is Extract<KeyWrite, { confirm?: Confirm[] }> & { confirm: Confirm[] } {
  return (write.kind === 'set' || write.kind === 'delete') && write.confirm !== undefined
}

function confirmAll(write: KeyWrite, failure?: Error): void {
  if (!hasConfirm(write)) return
  for (const confirm of write.confirm) confirm(failure)
}

function newSegment(): Segment {
  return { writes: new Map(), sweep: undefined }
}

/** The metadata with a body (a refresh's `meta` may carry the body it was made from: not that one). */
function withBody(meta: Omit<CacheEntry, 'body'>, body: Uint8Array): CacheEntry {
  return { ...meta, body } as CacheEntry
}
