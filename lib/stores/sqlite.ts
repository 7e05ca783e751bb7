import { setImmediate as nextTurn } from 'node:timers/promises'
import { CorruptStoreError, InvalidOptionTypeError, InvalidOptionValueError, StoreError } from '../errors.js'
import { decodeEntry, decodeMeta, encodeMeta } from './codec.js'
import type { CacheEntry, EntryMeta } from './entry.js'
import { flushAtExit, unregister } from './exit-flush.js'
import { type Batch, PendingWrites, type Segment, type Sweep } from './pending-writes.js'
import { RecentEntries } from './recent-entries.js'
import { type FileId, fileId, guard, isBusy, isCorruption, moveAside, type Opened, open, sameFile, wrap } from './sqlite-file.js'
import type { EntryRow, KeyedRow, MetaRow, Statements } from './sqlite-schema.js'
import type { MetaRecord, Store, StoreRecord } from './store.js'

export { SCHEMA_VERSION } from './sqlite-schema.js'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Full path of the database file (its directory is created if missing), or `':memory:'`. */
  path: string
  /**
   * Bound on the stored bytes (bodies plus serialized metadata). Past it, expired entries and then
   * least-recently-used ones are pruned down to 90% of the bound; an entry larger than it is not stored.
   * @default unbounded
   */
  maxSize?: number
  /**
   * How long, in ms, pending writes wait for another connection's write lock before they are given up
   * (not stored; one `StoreError` reported to `onError`). The wait is asynchronous: the event loop never
   * blocks on another process. Only opening the file, and committing at process exit, wait synchronously.
   * @default 5000
   */
  busyTimeout?: number
  /**
   * Called with problems the store recovered from by itself (a corrupt file moved aside), and with
   * writes it gave up (the file stayed locked, the disk is full).
   * @default `process.emitWarning`
   */
  onError?: (error: Error) => void
  /**
   * The clock, in ms since the epoch: access times, and what counts as expired when pruning.
   * @default Date.now
   */
  now?: () => number
}

const DEFAULT_BUSY_TIMEOUT = 5000
/** A hit records its use (for LRU pruning) at most this often, so the hit path rarely writes. */
const TOUCH_INTERVAL = 60_000
/** Bounds of the decoded entries kept for repeated hits (see RecentEntries). */
const RECENT_ENTRIES = 16_384
const RECENT_BYTES = 32 * 1024 * 1024
const RECORDS_PAGE = 100
/** Metadata rows are small: a page of them reads in well under a millisecond. */
const META_PAGE = 500
/** Pauses between attempts at a commit that met another connection's lock: doubling from the first to the last. */
const RETRY_FIRST_MS = 2
const RETRY_LAST_MS = 100
/**
 * While the file stays locked, pending writes pile up in memory; past these bounds a new entry is not
 * kept (its key is deleted instead, so it does not serve an older response), and that is reported once.
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024
const MAX_PENDING_WRITES = 50_000
/**
 * How long accepted writes wait before they are committed, so that the writes of several requests
 * share one transaction (a commit costs more than the rows it writes). Other processes see a write
 * this much later; this process reads it at once.
 */
const COMMIT_DELAY_MS = 10
/**
 * What one transaction commits at most: a few milliseconds of work. Past it the rest commits on the
 * next turns of the event loop, so a backlog (writes that waited for another process's lock) never
 * blocks the loop in one piece.
 */
const BATCH_WRITES = 128
const BATCH_BYTES = 4 * 1024 * 1024

const KNOWN_OPTIONS: { [K in keyof SqliteStoreOptions]-?: true } = {
  path: true,
  maxSize: true,
  busyTimeout: true,
  onError: true,
  now: true,
}

/**
 * A {@link Store} in one SQLite file, shared safely by every handle and process that opens it
 * (WAL, atomic upserts, a trigger-kept size total). Bodies are BLOBs beside JSON metadata; `get()`
 * returns them as `Buffer`s.
 *
 * Nothing waits synchronously on another process (the request path must not freeze while a second
 * process holds the write lock):
 * - reads are synchronous: a WAL reader never needs the write lock;
 * - writes (`set`, `delete`, `refresh`, the use a hit records, sweeps such as `clear`) are accepted at
 *   once and committed behind the request, batched: what arrives within `COMMIT_DELAY_MS` shares one
 *   transaction (a backlog goes in bounded transactions, a turn of the event loop between them).
 *   A commit that meets another connection's lock is retried with backoff, asynchronously, for up to
 *   `busyTimeout` ms; then the pending writes are given up, in one `StoreError` to `onError`, never
 *   committed out of order. `get()` and `records()` see this process's pending writes.
 * - `close()` and process exit (`beforeExit`, `exit`: see exit-flush.ts) commit what is pending.
 *
 * It repairs itself rather than fail for good:
 * - a file found corrupt (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), at open or by any later statement, is
 *   moved aside to `<path>.corrupt-<time>` (kept, named in the `CorruptStoreError` reported to
 *   `onError`) and replaced by a fresh one; the failed call is retried once on it;
 * - a file deleted or replaced under the running process (SQLite would go on writing into the
 *   unlinked inode, and every write would be lost) is noticed by the next commit, which reopens the
 *   file at `path`, reports a `StoreError` and commits there. Reads in between still see the old
 *   file's entries.
 */
export class SqliteStore implements Store {
  readonly #path: string
  readonly #busyTimeout: number
  readonly #maxSize: number | undefined
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  #db: Opened['db']
  #sql: Statements
  #secret: string
  /** The identity of the file the connection has open; `undefined` in memory. */
  #file: FileId | undefined
  /**
   * The file cannot be written: a write is tried at once (it fails at once, with SQLite's own
   * SQLITE_READONLY, reported), so it is never read back from the pending writes meanwhile.
   */
  #readOnly: boolean
  #closed = false
  /** Decoded entries read lately, valid while `#dataVersion` holds (see RecentEntries). */
  readonly #recent = new RecentEntries(RECENT_ENTRIES, RECENT_BYTES)
  #dataVersion: number | undefined
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
    const { path, maxSize, busyTimeout = DEFAULT_BUSY_TIMEOUT, onError, now = Date.now } = options
    this.#path = path
    this.#busyTimeout = busyTimeout
    this.#maxSize = maxSize
    this.#now = now
    this.#onError = onError ?? ((error) => process.emitWarning(error))
    const opened = this.#openOrRecreate(undefined)
    this.#db = opened.db
    this.#sql = opened.sql
    this.#secret = opened.secret
    this.#file = opened.file
    this.#readOnly = opened.readOnly
  }

  /**
   * A random secret stored in the file, used to hash credentials into keys. A file re-created after
   * corruption or deletion takes over the previous secret, so keys stay stable.
   */
  get secret(): string {
    return this.#secret
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
      if (recent && this.#versionUnchanged()) {
        recent.accessedAt = this.#touch(key, recent.accessedAt)
        return recent.entry
      }
      row = this.#sql.get.get(key)
      // Read after the row: if no other connection committed since the cached copies were read,
      // none did before this row was read either, and it may join them.
      unchanged = row !== undefined && this.#versionUnchanged()
    } catch (error) {
      // A corrupt file is replaced by an empty one, where the key is a miss.
      this.#failed('reading an entry', error)
      return undefined
    }
    if (row === undefined) return undefined
    const [meta, accessedAt, body] = row
    const entry = decodeEntry(meta, body)
    if (entry === undefined) {
      this.delete([key])
      return undefined
    }
    const kept = this.#touch(key, accessedAt)
    if (unchanged) this.#recent.set(key, entry, kept)
    return entry
  }

  /**
   * Whether no other connection has committed since the decoded copies were read. When one has,
   * they are dropped and the new version becomes the mark (so the next row read may be kept).
   */
  #versionUnchanged(): boolean {
    const version = this.#sql.dataVersion.get()
    if (version === this.#dataVersion) return true
    this.#recent.clear()
    this.#dataVersion = version
    return false
  }

  /** Records a use for LRU pruning, at most once a minute per entry; returns the access time kept. */
  #touch(key: string, accessedAt: number): number {
    const now = this.#now()
    if (now - accessedAt < TOUCH_INTERVAL || this.#readOnly) return accessedAt
    // LRU order is a hint: if the file stays locked, the use is given up with the other pending writes.
    this.#pending.touch(key, now)
    this.#schedule()
    return now
  }

  /**
   * Store `entry` under `key`, replacing any entry there; committed behind the caller (then pruned if
   * past `maxSize`). The entry is read when committed: do not change it afterwards.
   */
  set(key: string, entry: CacheEntry): void {
    this.#accept('writing an entry', key)
    if (this.#pending.bytes + entry.body.byteLength > MAX_PENDING_BYTES || this.#pending.size >= MAX_PENDING_WRITES) {
      this.#pending.delete(key)
      this.#reportOverflow()
    } else {
      this.#pending.set(key, entry, this.#now())
    }
    this.#schedule()
  }

  /**
   * Replace the metadata of the response under `key` stored at `storedAt` (its `createdAt`), keeping
   * its body (a 304: RFC 9111 §4.3.4); committed behind the caller, as one small UPDATE that leaves the
   * body's row alone. Nothing is written if that response was replaced or deleted meanwhile.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): void {
    this.#accept('refreshing an entry', key)
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
    return this.#sweep('clearing', { kind: 'clear' }).then(() => undefined)
  }

  /** Delete the entries that expire at or before `now` (ms); resolves to how many were deleted. */
  deleteExpired(now: number): Promise<number> {
    return this.#sweep('deleting expired entries', { kind: 'expired', now })
  }

  /** Delete the entries created (or last revalidated) before `createdBefore` (ms); resolves to how many. */
  deleteOlderThan(createdBefore: number): Promise<number> {
    return this.#sweep('deleting old entries', { kind: 'older', before: createdBefore })
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
    await this.flush()
    let after: string | undefined
    for (;;) {
      this.#ensureOpen('listing entries')
      const page = after
      const rows: KeyedRow[] = this.#read('listing entries', () =>
        page === undefined ? this.#sql.firstPage.all(RECORDS_PAGE) : this.#sql.nextPage.all(page, RECORDS_PAGE),
      )
      for (const row of rows) yield { key: row.key, entry: decodeEntry(row.meta, row.body) }
      const last = rows.at(-1)
      if (last === undefined || rows.length < RECORDS_PAGE) return
      after = last.key
      await nextTurn()
    }
  }

  /** The metadata of the row under `key`, once pending writes land; reads no body. */
  async getMeta(key: string): Promise<MetaRecord | undefined> {
    await this.flush()
    this.#ensureOpen('reading an entry')
    const row = this.#read('reading an entry', () => this.#sql.getMeta.get(key))
    return row && metaRecord(row)
  }

  /**
   * Every row's metadata, by key, once pending writes land: no body is read. In pages, with a turn of
   * the event loop between them, so a large cache never blocks the loop for long.
   */
  async *metaRecords(): AsyncGenerator<MetaRecord, void, undefined> {
    await this.flush()
    let after: string | undefined
    for (;;) {
      this.#ensureOpen('listing entries')
      const page = after
      const rows: MetaRow[] = this.#read('listing entries', () =>
        page === undefined ? this.#sql.firstMetaPage.all(META_PAGE) : this.#sql.nextMetaPage.all(page, META_PAGE),
      )
      for (const row of rows) yield metaRecord(row)
      const last = rows.at(-1)
      if (last === undefined || rows.length < META_PAGE) return
      after = last.key
      await nextTurn()
    }
  }

  /** Stored bytes (bodies plus serialized metadata) across every process using the file, once pending writes land; O(1). */
  async size(): Promise<number> {
    await this.flush()
    this.#ensureOpen('reading the size')
    return this.#read('reading the size', () => this.#sql.totalSize.get() ?? 0)
  }

  /** The number of stored rows, readable or not, once pending writes land. */
  async count(): Promise<number> {
    await this.flush()
    this.#ensureOpen('counting entries')
    return this.#read('counting entries', () => this.#sql.count.get() ?? 0)
  }

  /** The distinct (normalized request) URLs stored, sorted, once pending writes land. */
  async urls(): Promise<string[]> {
    await this.flush()
    this.#ensureOpen('listing URLs')
    return this.#read('listing URLs', () => this.#sql.urls.all())
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

  #closing: Promise<void> | undefined

  #closeConnection(): void {
    if (this.#db.open) this.#db.close()
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

  #sweep(doing: string, sweep: Sweep): Promise<number> {
    try {
      this.#ensureOpen(doing)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      this.#pending.sweep({ sweep, settle: (result) => (typeof result === 'number' ? resolve(result) : reject(result)) })
      this.#schedule()
    })
  }

  #reportOverflow(): void {
    if (this.#overflowReported) return
    this.#overflowReported = true
    this.#report(
      new StoreError(
        `fetch-http-cache: SQLite store dropped new entries: ${this.#pending.size} writes are already waiting for ` +
          `the lock on ${this.#path}`,
      ),
    )
  }

  /** A commit soon (`COMMIT_DELAY_MS`), unless one is already due; at once on a read-only file. */
  #schedule(): void {
    if (this.#readOnly) {
      this.#cancelTimer()
      this.#commit(false)
      return
    }
    if (this.#timer !== undefined) return
    flushAtExit(this.#commitAtExit)
    this.#timer = setTimeout(this.#tick, COMMIT_DELAY_MS)
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
    this.#timer = setImmediate(this.#tick)
    this.#timerKind = 'next'
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return
    clearTimeout(this.#timer as NodeJS.Timeout)
    clearImmediate(this.#timer as NodeJS.Immediate)
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
      const batch = this.#pending.batch(BATCH_WRITES, BATCH_BYTES)
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
          this.#failed('committing writes', failure)
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
    const pause = Math.min(RETRY_LAST_MS, RETRY_FIRST_MS * 2 ** this.#attempts++)
    // Kept referenced: a process does not exit with writes still waiting (for at most busyTimeout).
    this.#timer = setTimeout(this.#tick, pause)
    this.#timerKind = 'retry'
    return true
  }

  /** At process exit: commit synchronously, waiting up to `busyTimeout` for another connection's lock. */
  #commitBlocking(): void {
    this.#cancelTimer()
    if (this.#pending.empty || !this.#db.open) return
    try {
      this.#db.pragma(`busy_timeout = ${this.#busyTimeout}`)
      this.#commit(true)
    } finally {
      if (this.#db.open) this.#db.pragma('busy_timeout = 0')
    }
  }

  /** Applies `batch` in one IMMEDIATE transaction; returns the sweeps' row counts. */
  #apply(batch: Batch): number[] {
    this.#checkFile()
    return this.#db.transaction(() => applySegments(batch.segments, this.#sql, this.#maxSize)).immediate()
  }

  /** `batch` is committed (`counts`: its sweeps' row counts). */
  #committed(batch: Batch, counts: number[]): void {
    this.#forgetRecent(batch.segments)
    this.#waitingSince = undefined
    this.#attempts = 0
    for (const [i, pending] of this.#pending.committed(batch).entries()) pending.settle(counts[i] ?? 0)
  }

  /** Everything pending is given up (`failure`): one report for the key writes, a rejection per sweep. */
  #gaveUp(failure: unknown): void {
    this.#forgetRecent(this.#pending.segments)
    const writes = this.#pending.size
    const sweeps = this.#pending.take()
    const error = wrap(`committing ${writes} pending writes (given up)`, failure)
    for (const pending of sweeps) pending.settle(error)
    // A sweep's caller hears of its failure through the promise; key writes have no caller left to tell.
    if (writes > sweeps.length) this.#report(error)
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

  /** Decoded copies of what these segments wrote are stale once they land (or are given up). */
  #forgetRecent(segments: readonly Segment[]): void {
    // Sweeps and pruning delete rows no key list names.
    if (this.#maxSize !== undefined || segments.some((segment) => segment.sweep)) {
      this.#recent.clear()
      return
    }
    for (const segment of segments) for (const key of segment.writes.keys()) this.#recent.delete(key)
  }

  /** Runs a read; on corruption, replaces the file and runs it once more. */
  #read<T>(doing: string, fn: () => T): T {
    try {
      return fn()
    } catch (error) {
      this.#failed(doing, error)
    }
    return guard(doing, fn)
  }

  /** Returns when `error` was corruption and the file has been replaced (worth a retry); throws otherwise. */
  #failed(doing: string, error: unknown): void {
    if (this.#closed || !isCorruption(error)) throw wrap(doing, error)
    let movedTo: string | undefined
    // Move the file aside only if it is still the one we have open: another process that found the
    // corruption first may have put a fresh file there already.
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) movedTo = moveAside(this.#path, this.#db)
    else this.#db.close()
    this.#reopen()
    this.#report(
      movedTo === undefined
        ? new StoreError(`fetch-http-cache: cache file ${this.#path} was corrupt and already replaced; reopened it`, {
            cause: error,
          })
        : new CorruptStoreError(this.#path, movedTo, { cause: error }),
    )
  }

  /** Reopens at `path` when the file there is not the one open (deleted, or replaced by another process). */
  #checkFile(): void {
    // Also while closing: the writes accepted before close() still go to the file at `path`.
    if (this.#file === undefined || !this.#db.open) return
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) return
    // Closing the last connection to a deleted file removes its -wal and -shm by name, so close
    // before creating the new file, not after.
    this.#db.close()
    this.#reopen()
    this.#report(
      new StoreError(
        `fetch-http-cache: cache file ${this.#path} was ${current === undefined ? 'deleted' : 'replaced'} while in use; ` +
          'reopened it (entries written since then went to the old file)',
      ),
    )
  }

  #reopen(): void {
    this.#recent.clear()
    this.#dataVersion = undefined
    try {
      const opened = this.#openOrRecreate(this.#secret)
      this.#db = opened.db
      this.#sql = opened.sql
      this.#secret = opened.secret
      this.#file = opened.file
      this.#readOnly = opened.readOnly
    } catch (error) {
      // Left closed: every later call fails with a StoreError, which the engine reports.
      throw wrap(`reopening ${this.#path}`, error)
    }
  }

  /** Opens the file; a corrupt one is moved aside, reported, and replaced once. */
  #openOrRecreate(secret: string | undefined): Opened {
    const path = this.#path
    try {
      return open(path, this.#busyTimeout, this.#now, secret)
    } catch (error) {
      if (!(error instanceof CorruptStoreError)) throw wrap(`opening ${path}`, error)
      this.#report(error)
    }
    try {
      return open(path, this.#busyTimeout, this.#now, secret)
    } catch (again) {
      throw wrap(`re-creating ${path}`, again)
    }
  }

  #report(error: Error): void {
    try {
      this.#onError(error)
    } catch {
      // A throwing onError must not turn a repaired store into a broken one.
    }
  }
}

/**
 * The pending writes, segment by segment: key writes, then the segment's sweep. Pruning (past
 * `maxSize`) runs once at the end and spares the last entry written, which fits on its own.
 */
function applySegments(segments: readonly Segment[], sql: Statements, maxSize: number | undefined): number[] {
  const counts: number[] = []
  let written: string | undefined
  for (const segment of segments) {
    for (const [key, write] of segment.writes) {
      switch (write.kind) {
        case 'set': {
          const { entry } = write
          const meta = encodeMeta(entry)
          const size = entry.body.byteLength + Buffer.byteLength(meta)
          if (maxSize !== undefined && size > maxSize) {
            // Too big to keep: drop what was there too, so the key no longer serves the older response.
            sql.deleteOne.run(key)
          } else {
            sql.upsert(key, entry.url, meta, entry.body, size, entry.createdAt, entry.expires, write.accessedAt)
            written = key
          }
          break
        }
        case 'delete':
          sql.deleteOne.run(key)
          break
        case 'refresh': {
          // Only the response revalidated: if another took its place meanwhile, its metadata must not land on that body.
          const meta = encodeMeta(write.meta)
          sql.refresh.run(
            meta,
            Buffer.byteLength(meta),
            write.meta.createdAt,
            write.meta.expires,
            write.accessedAt,
            key,
            write.storedAt,
          )
          break
        }
        case 'touch':
          sql.touch.run(write.accessedAt, key)
          break
        default:
          write satisfies never
      }
    }
    if (segment.sweep) counts.push(runSweep(segment.sweep.sweep, sql))
  }
  if (maxSize !== undefined && written !== undefined && (sql.totalSize.get() ?? 0) > maxSize) sql.prune(written, maxSize)
  return counts
}

function metaRecord(row: MetaRow): MetaRecord {
  return { key: row.key, meta: decodeMeta(row.meta), bodySize: row.body_size }
}

function runSweep(sweep: Sweep, sql: Statements): number {
  switch (sweep.kind) {
    case 'clear':
      return sql.clear()
    case 'expired':
      return sql.deleteExpired.run(sweep.now).changes
    case 'older':
      return sql.deleteOlderThan.run(sweep.before).changes
    default:
      return sweep satisfies never
  }
}

function checkOptions(options: SqliteStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN_OPTIONS, name)) {
      throw new InvalidOptionValueError(
        name,
        (options as unknown as Record<string, unknown>)[name],
        'is not an option of SqliteStore',
      )
    }
  }
  const { path, maxSize, busyTimeout, onError, now } = options
  if (typeof path !== 'string') throw new InvalidOptionTypeError('path', path, 'a string')
  if (path === '') throw new InvalidOptionValueError('path', path, 'must not be empty')
  if (maxSize !== undefined) checkInteger('maxSize', maxSize, 1)
  if (busyTimeout !== undefined) checkInteger('busyTimeout', busyTimeout, 0)
  if (onError !== undefined && typeof onError !== 'function') throw new InvalidOptionTypeError('onError', onError, 'a function')
  if (now !== undefined && typeof now !== 'function') throw new InvalidOptionTypeError('now', now, 'a function')
}

function checkInteger(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number') throw new InvalidOptionTypeError(name, value, 'a number')
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionValueError(name, value, `must be an integer >= ${min}`)
  }
}
