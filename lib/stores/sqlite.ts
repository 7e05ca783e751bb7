import { nextTurn, realTimers } from '../engine/timers.js'
import { decodeEntry } from '../entry/codec.js'
import type { CacheEntry, EntryMeta } from '../entry/entry.js'
import type {
  FlushingStore,
  MetadataStore,
  MetaRecord,
  RefreshingStore,
  SizedStore,
  Store,
  StoreRecord,
  UrlIndexedStore,
} from '../entry/store.js'
import { StoreError } from '../errors.js'
import { errorReporter } from '../observe/report.js'
import { flushAtExit, unregister } from './exit-flush.js'
import { type Batch, PendingWrites } from './pending-writes.js'
import { RecentEntries } from './recent-entries.js'
import { applySegments } from './sqlite-apply.js'
import { SqliteConnection } from './sqlite-connection.js'
import { isBusy, isCorruption, wrap } from './sqlite-file.js'
import { checkOptions, type SqliteStoreOptions } from './sqlite-options.js'
import { type EntryRow, type KeyColumn, keyColumn, keyedRecord, keyOf, metaRecord, type Statements } from './sqlite-schema.js'
import * as tuning from './sqlite-tuning.js'

/**
 * A {@link Store} in one SQLite file, shared safely by every handle and process that opens it
 * (WAL, atomic upserts, a trigger-kept size total). Bodies are BLOBs beside JSON metadata; `get()`
 * returns them as `Buffer`s.
 *
 * Nothing waits synchronously on another process (the request path must not freeze while a second
 * process holds the write lock):
 * - reads are synchronous: a WAL reader never needs the write lock;
 * - writes (`set`, `delete`, `refresh`, the use a hit records, `clear`) are accepted at
 *   once and committed behind the request, batched: what arrives within `COMMIT_DELAY_MS` shares one
 *   transaction (a backlog goes in bounded transactions, a turn of the event loop between them).
 *   A commit that meets another connection's lock is retried with backoff, asynchronously, for up to
 *   `busyTimeout` ms; then the pending writes are given up, in one `StoreError` to `onError`, never
 *   committed out of order. `get()` and `records()` see this process's pending writes.
 * - `close()` and process exit (`beforeExit`, `exit`: see exit-flush.ts) commit what is pending.
 *
 * The file repairs itself (a corrupt file moved aside and replaced, a deleted one reopened): see
 * sqlite-connection.ts.
 */
export class SqliteStore implements Store, RefreshingStore, MetadataStore, FlushingStore, SizedStore, UrlIndexedStore {
  readonly #path: string
  readonly #busyTimeout: number
  readonly #maxSize: number | undefined
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  readonly #conn: SqliteConnection
  #closed = false
  #closing: Promise<void> | undefined
  /** Decoded entries read or committed lately, valid while no other connection commits (see RecentEntries). */
  readonly #recent = new RecentEntries(tuning.RECENT_ENTRIES, tuning.RECENT_BYTES, () => this.#conn.sql.dataVersion.get())
  /** Writes accepted and not committed yet. */
  readonly #pending = new PendingWrites()
  /** The next commit attempt: after the commit delay, on the next turn of the loop, or a retry after a pause. */
  #timer: NodeJS.Immediate | NodeJS.Timeout | undefined
  #timerKind: 'delay' | 'next' | 'retry' = 'delay'
  /** When the pending writes first met a lock (`performance.now()`), while they wait. */
  #waitingSince: number | undefined
  #attempts = 0
  #overflowReported = false
  /** `flush()` callers, told when the pending writes are committed or given up. */
  #flushed: (() => void)[] = []
  readonly #commitAtExit = () => this.#commitBlocking()

  constructor(options: SqliteStoreOptions) {
    checkOptions(options)
    const { path, maxSize, busyTimeout = tuning.DEFAULT_BUSY_TIMEOUT, onError, now = Date.now } = options
    this.#path = path
    this.#busyTimeout = busyTimeout
    this.#maxSize = maxSize
    this.#now = now
    this.#onError = errorReporter(() => onError)
    this.#conn = new SqliteConnection(path, busyTimeout, now, {
      report: (error) => this.#report(error),
      onReopen: () => this.#recent.reset(),
      isClosed: () => this.#closed,
    })
  }

  /**
   * A random secret stored in the file, used to hash credentials into keys. A file re-created after
   * corruption or deletion takes over the previous secret, so keys stay stable.
   */
  get secret(): string {
    return this.#conn.secret
  }

  /**
   * The entry under `key`, or `undefined` (a row that cannot be read is deleted). Sees this process's
   * pending writes; never waits for a lock.
   */
  get(key: string): CacheEntry | undefined {
    this.#ensureOpen('reading an entry')
    return this.#pending.lookup(key, () => this.#getCommitted(key))
  }

  /**
   * The committed row under `key`. The decoded copy in `#recent` serves while `PRAGMA data_version`
   * says no other connection has committed since it was read; a key in neither costs one statement.
   */
  #getCommitted(key: string): CacheEntry | undefined {
    let row: EntryRow | undefined
    let unchanged: boolean
    try {
      const recent = this.#recent.get(key)
      if (recent && this.#recent.unchanged()) {
        recent.accessedAt = this.#touch(key, recent.accessedAt)
        return recent.entry
      }
      row = this.#conn.sql.get.get(keyColumn(key))
      // Read after the row: if no other connection committed since the cached copies were read,
      // none did before this row was read either, and it may join them.
      unchanged = row !== undefined && this.#recent.unchanged()
    } catch (error) {
      // A corrupt file is replaced by an empty one, where the key is a miss.
      this.#conn.failed('reading an entry', error)
      return undefined
    }
    if (row === undefined || row[2] === null) return undefined
    const [meta, accessedAt, body, url, createdAt] = row
    const entry = decodeEntry(meta, body, { key, url, createdAt })
    if (entry === undefined) {
      this.delete([key])
      return undefined
    }
    const kept = this.#touch(key, accessedAt)
    if (unchanged) this.#recent.set(key, entry, kept)
    return entry
  }

  /** Records a use for LRU pruning, at most once a minute per entry; returns the access time kept. */
  #touch(key: string, accessedAt: number): number {
    const now = this.#now()
    if (now - accessedAt < tuning.TOUCH_INTERVAL || this.#conn.readOnly) return accessedAt
    // LRU order is a hint: if the file stays locked, the use is given up with the other pending writes.
    this.#pending.touch(key, now)
    this.#schedule()
    return now
  }

  /**
   * Store `entry` under `key` (read at once here, committed behind the caller, then pruned past `maxSize`;
   * do not change it afterwards). Resolves once committed; rejects with a `StoreError` if given up.
   */
  set(key: string, entry: CacheEntry): Promise<boolean> {
    this.#accept('writing an entry', key)
    const pending = this.#pending
    if (this.#maxSize !== undefined && entry.body.byteLength > this.#maxSize) {
      // Larger than the whole store: not kept, and the key no longer serves an older response.
      pending.delete(key)
      this.#schedule()
      return Promise.resolve(false)
    }
    const fits = () =>
      pending.bytes + entry.body.byteLength <= tuning.MAX_PENDING_BYTES && pending.size < tuning.MAX_PENDING_WRITES
    // Writes that pile up with no lock in the way (accepted faster than the delayed commits run) are
    // committed here and now: only another connection's lock may make a new entry wait, or drop it.
    while (!fits() && this.#waitingSince === undefined && !pending.empty && !this.#closed) {
      this.#cancelTimer()
      this.#commit(false)
    }
    const confirmed = new Promise<boolean>((resolve, reject) => {
      if (fits()) {
        pending.set(key, entry, this.#now(), (failure) => (failure ? reject(failure) : resolve(true)))
      } else {
        pending.delete(key) // so the key does not serve an older response
        reject(this.#overflow())
      }
    })
    confirmed.catch(() => {}) // a caller that does not wait is not sent an unhandled rejection
    this.#schedule()
    return confirmed
  }

  /**
   * Replace the metadata of the response under `key` stored at `storedAt` (its `createdAt`), keeping
   * its body (a 304: RFC 9111 §4.3.4); committed behind the caller, as one small UPDATE that leaves the
   * body's row alone. Nothing is written if that response was replaced or deleted meanwhile.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): void {
    // The decoded copy stays: it is still the row, which the pending metadata is read over and, once committed, renews.
    this.#ensureOpen('refreshing an entry')
    this.#pending.refresh(key, meta, storedAt, this.#now())
    this.#schedule()
  }

  /** Delete the entries under `keys`, committed behind the caller. Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    if (keys.length === 0) return
    for (const key of keys) {
      this.#accept('deleting entries', key)
      this.#pending.delete(key)
    }
    this.#schedule()
  }

  /** Delete every entry; resolves once committed. */
  clear(): Promise<void> {
    return this.#sweep('clearing')
  }

  /**
   * Resolves once every write accepted so far is committed, or given up and reported to `onError`
   * (it never rejects). Other processes see a write once it is committed.
   */
  flush(): Promise<void> {
    if (this.#pending.empty && this.#timer === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      this.#flushed.push(resolve)
      this.#scheduleNow()
    })
  }

  /**
   * Every row, by key, read in pages once the pending writes are committed. No statement stays open
   * between pages, and the loop gets a turn between them, so the caller may write to the store
   * (delete invalid rows, say) while iterating.
   */
  async *records(): AsyncGenerator<StoreRecord, void, undefined> {
    const pages = this.#pages(
      tuning.RECORDS_PAGE,
      (sql) => sql.firstPage,
      (sql) => sql.nextPage,
    )
    for await (const row of pages) yield keyedRecord(row)
  }

  /**
   * The keys of every row stored for `url`: committed ones through the `url` index, and this process's
   * pending writes, without waiting for them to be committed.
   */
  keysForUrl(url: string): string[] {
    this.#ensureOpen('finding a URL')
    const keys = new Set(this.#conn.read('finding a URL', () => this.#conn.sql.keysForUrl.all(url)).map(keyOf))
    for (const segment of this.#pending.segments) {
      for (const [key, write] of segment.writes) if (write.kind === 'set' && write.entry.url === url) keys.add(key)
    }
    return [...keys]
  }

  /** The metadata of the row under `key`, once pending writes land; reads no body. */
  async getMeta(key: string): Promise<MetaRecord | undefined> {
    const row = await this.#query('reading an entry', (sql) => sql.getMeta.get(keyColumn(key)))
    return row && metaRecord(row)
  }

  /**
   * Every row's metadata, by key, once pending writes land: no body is read. In pages, with a turn of
   * the event loop between them, so a large cache never blocks the loop for long.
   */
  async *metaRecords(): AsyncGenerator<MetaRecord, void, undefined> {
    const pages = this.#pages(
      tuning.META_PAGE,
      (sql) => sql.firstMetaPage,
      (sql) => sql.nextMetaPage,
    )
    for await (const row of pages) yield metaRecord(row)
  }

  /** Rows in pages of `size` by key, once pending writes land, with a turn of the loop between pages. */
  async *#pages<Row extends { key: KeyColumn }>(
    size: number,
    first: (sql: Statements) => { all(limit: number): Row[] },
    next: (sql: Statements) => { all(after: KeyColumn, limit: number): Row[] },
  ): AsyncGenerator<Row, void, undefined> {
    await this.flush()
    let after: KeyColumn | undefined
    for (;;) {
      this.#ensureOpen('listing entries')
      const page = after
      const rows = this.#conn.read('listing entries', () =>
        page === undefined ? first(this.#conn.sql).all(size) : next(this.#conn.sql).all(page, size),
      )
      yield* rows
      const last = rows.at(-1)
      if (last === undefined || rows.length < size) return
      after = last.key
      await nextTurn()
    }
  }

  /** Stored bytes (bodies plus serialized metadata) across every process using the file, once pending writes land; O(1). */
  size(): Promise<number> {
    return this.#query('reading the size', (sql) => sql.totalSize.get() ?? 0)
  }

  /** A read of committed data, once this process's pending writes have landed. */
  async #query<T>(doing: string, fn: (sql: Statements) => T): Promise<T> {
    await this.flush()
    this.#ensureOpen(doing)
    return this.#conn.read(doing, () => fn(this.#conn.sql))
  }

  /**
   * Commit what is pending, then close the connection. Idempotent; any later call throws a `StoreError`.
   * Returns a promise only when pending writes have to wait for another connection's lock.
   */
  close(): void | Promise<void> {
    if (this.#closed) return this.#closing
    this.#closed = true
    this.#cancelTimer()
    if (!this.#pending.empty) this.#commit(false)
    if (this.#pending.empty) {
      this.#closeConnection()
      return
    }
    this.#closing = this.flush().then(() => this.#closeConnection())
    return this.#closing
  }

  #closeConnection(): void {
    if (this.#conn.db.open) this.#conn.db.close()
  }

  #ensureOpen(doing: string): void {
    if (this.#closed) throw new StoreError(`fetch-http-cache: SQLite store failed ${doing}: the store is closed`)
  }

  /**
   * Before accepting a write to `key`: the store is open, and no stale decoded copy is kept. (That the
   * file at `path` is still the one open is checked once per commit, not per write.)
   */
  #accept(doing: string, key: string): void {
    this.#ensureOpen(doing)
    this.#recent.delete(key)
  }

  #sweep(doing: string): Promise<void> {
    try {
      this.#ensureOpen(doing)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      this.#pending.sweep({ settle: (failure) => (failure ? reject(failure) : resolve()) })
      this.#schedule()
    })
  }

  /** Why a new entry was dropped: too many writes wait for the lock (reported to `onError` once per wait). */
  #overflow(): StoreError {
    const waiting = `${this.#pending.size} writes are already waiting for the lock on ${this.#path}`
    const error = new StoreError(`fetch-http-cache: SQLite store dropped a new entry: ${waiting}`)
    if (!this.#overflowReported) this.#report(error)
    this.#overflowReported = true
    return error
  }

  /** A commit soon (`COMMIT_DELAY_MS`), unless one is already due; at once on a read-only file. */
  #schedule(): void {
    if (this.#conn.readOnly) {
      this.#cancelTimer()
      this.#commit(false)
      return
    }
    if (this.#timer !== undefined) return
    flushAtExit(this.#commitAtExit)
    this.#timer = realTimers.setTimeout(this.#tick, tuning.COMMIT_DELAY_MS)
    this.#timerKind = 'delay'
  }

  readonly #tick = () => {
    this.#timer = undefined
    this.#commit(false)
  }

  /** A commit on the next turn of the loop: the rest of a backlog, or what `flush()` waits for. */
  #scheduleNow(): void {
    if (this.#timer !== undefined && this.#timerKind !== 'delay') return
    this.#cancelTimer()
    flushAtExit(this.#commitAtExit)
    this.#timer = realTimers.setImmediate(this.#tick)
    this.#timerKind = 'next'
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return
    realTimers.clearTimeout(this.#timer as NodeJS.Timeout)
    realTimers.clearImmediate(this.#timer as NodeJS.Immediate)
    this.#timer = undefined
  }

  /**
   * Commit the pending writes, one bounded batch per transaction, the next batch on the next turn of
   * the loop (all at once when `blocking`). On another connection's lock, try again later (unless
   * `blocking`, when SQLite's own busy timeout has already waited); on corruption, replace the file
   * and try once more; else give up what is pending, in one report.
   */
  #commit(blocking: boolean): void {
    while (!this.#pending.empty) {
      const batch = this.#pending.batch(tuning.BATCH_WRITES, tuning.BATCH_BYTES)
      let failure: unknown
      try {
        this.#committed(batch, this.#apply(batch))
      } catch (error) {
        failure = error
      }
      if (failure !== undefined) {
        if (!blocking && isBusy(failure) && this.#retryLater()) return
        if (!isCorruption(failure) || this.#closed) {
          this.#gaveUp(failure)
          return
        }
        try {
          this.#conn.failed('committing writes', failure)
          this.#committed(batch, this.#apply(batch))
        } catch (error) {
          this.#gaveUp(error)
          return
        }
      }
      if (!blocking && !this.#pending.empty) {
        this.#scheduleNow()
        return
      }
    }
    this.#done()
  }

  /** Schedules another attempt, unless the writes have waited `busyTimeout` already. */
  #retryLater(): boolean {
    const now = performance.now()
    this.#waitingSince ??= now
    if (now - this.#waitingSince >= this.#busyTimeout) return false
    const pause = Math.min(tuning.RETRY_LAST_MS, tuning.RETRY_FIRST_MS * 2 ** this.#attempts++)
    // Kept referenced: a process does not exit with writes still waiting (for at most busyTimeout).
    this.#timer = realTimers.setTimeout(this.#tick, pause)
    this.#timerKind = 'retry'
    return true
  }

  /** At process exit: commit synchronously, waiting up to `busyTimeout` for another connection's lock. */
  #commitBlocking(): void {
    this.#cancelTimer()
    if (this.#pending.empty || !this.#conn.db.open) return
    try {
      this.#conn.db.pragma(`busy_timeout = ${this.#busyTimeout}`)
      this.#commit(true)
    } finally {
      if (this.#conn.db.open) this.#conn.db.pragma('busy_timeout = 0')
    }
  }

  /** Applies `batch` in one IMMEDIATE transaction; `true` when rows went that no write names (see applySegments). */
  #apply(batch: Batch): boolean {
    this.#conn.checkFile()
    return this.#conn.db.transaction(() => applySegments(batch.segments, this.#conn.sql, this.#maxSize)).immediate()
  }

  /** `batch` is committed. */
  #committed(batch: Batch, rowsGone: boolean): void {
    this.#recent.written(batch.segments, true, rowsGone)
    this.#waitingSince = undefined
    this.#attempts = 0
    for (const pending of this.#pending.committed(batch)) pending.settle()
  }

  /** Everything pending is given up: a rejection per set and sweep; a report if a write has nobody waiting. */
  #gaveUp(failure: unknown): void {
    this.#recent.written(this.#pending.segments, false, false)
    const writes = this.#pending.size
    const unconfirmed = this.#pending.unconfirmed
    const error = wrap(`committing ${writes} pending writes (given up)`, failure)
    const sweeps = this.#pending.take(error)
    for (const pending of sweeps) pending.settle(error)
    if (unconfirmed) this.#report(error)
    this.#done()
  }

  /** Nothing is pending any more: tell whoever waits. */
  #done(): void {
    this.#waitingSince = undefined
    this.#attempts = 0
    this.#overflowReported = false
    if (this.#timer === undefined) unregister(this.#commitAtExit)
    const flushed = this.#flushed
    this.#flushed = []
    for (const resolve of flushed) resolve()
  }

  #report(error: Error): void {
    this.#onError(error)
  }
}
