import { CorruptStoreError, ForeignFileError, StoreError } from '../errors.js'
import { type FileId, fileId, guard, isCorruption, moveAside, type Opened, open, sameFile, wrap } from './sqlite-file.js'
import type { Statements } from './sqlite-schema.js'

/** Where the connection reports what it repaired, and whom it tells that it reopened. */
export interface ConnectionHooks {
  report(error: Error): void
  /** Called before a new file is opened: what was read from the old one is no longer valid. */
  onReopen(): void
  isClosed(): boolean
}

/**
 * The connection to one cache file, which repairs itself rather than fail for good:
 * - a file found corrupt (`SQLITE_CORRUPT`, `SQLITE_NOTADB`), at open or by any later statement, is
 *   moved aside to `<path>.corrupt-<time>` (kept, named in the `CorruptStoreError` reported to
 *   `onError`) and replaced by a fresh one; the failed call is retried once on it;
 * - a file deleted or replaced under the running process (SQLite would go on writing into the
 *   unlinked inode, and every write would be lost) is noticed by the next commit, which reopens the
 *   file at `path`, reports a `StoreError` and commits there. Reads in between still see the old
 *   file's entries.
 *
 * The store reads `db` and `sql` afresh at each use, since both change when the file is replaced.
 */
export class SqliteConnection {
  db!: Opened['db']
  sql!: Statements
  secret!: string
  /**
   * The file cannot be written: a write is tried at once (it fails at once, with SQLite's own
   * SQLITE_READONLY, reported), so it is never read back from the pending writes meanwhile.
   */
  readOnly!: boolean
  /** The identity of the file the connection has open; `undefined` in memory. */
  #file: FileId | undefined
  readonly #path: string
  readonly #busyTimeout: number
  readonly #now: () => number
  readonly #report: (error: Error) => void
  readonly #onReopen: () => void
  readonly #isClosed: () => boolean

  constructor(path: string, busyTimeout: number, now: () => number, hooks: ConnectionHooks) {
    this.#path = path
    this.#busyTimeout = busyTimeout
    this.#now = now
    this.#report = hooks.report
    this.#onReopen = hooks.onReopen
    this.#isClosed = hooks.isClosed
    this.#take(this.#openOrRecreate(undefined))
  }

  #take(opened: Opened): void {
    this.db = opened.db
    this.sql = opened.sql
    this.secret = opened.secret
    this.#file = opened.file
    this.readOnly = opened.readOnly
  }

  /** Runs a read; on corruption, replaces the file and runs it once more. */
  read<T>(doing: string, fn: () => T): T {
    try {
      return fn()
    } catch (error) {
      this.failed(doing, error)
    }
    return guard(doing, fn)
  }

  /** Returns when `error` was corruption and the file has been replaced (worth a retry); throws otherwise. */
  failed(doing: string, error: unknown): void {
    if (this.#isClosed() || !isCorruption(error)) throw wrap(doing, error)
    let movedTo: string | undefined
    // Move the file aside only if it is still the one we have open: another process that found the
    // corruption first may have put a fresh file there already.
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) movedTo = moveAside(this.#path, this.db)
    else this.db.close()
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
  checkFile(): void {
    // Also while closing: the writes accepted before close() still go to the file at `path`.
    if (this.#file === undefined || !this.db.open) return
    const current = fileId(this.#path)
    if (current !== undefined && sameFile(current, this.#file)) return
    // Closing the last connection to a deleted file removes its -wal and -shm by name, so close
    // before creating the new file, not after.
    this.db.close()
    this.#reopen()
    this.#report(
      new StoreError(
        `fetch-http-cache: cache file ${this.#path} was ${current === undefined ? 'deleted' : 'replaced'} while in use; ` +
          'reopened it (entries written since then went to the old file)',
      ),
    )
  }

  #reopen(): void {
    this.#onReopen()
    try {
      this.#take(this.#openOrRecreate(this.secret))
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
      if (error instanceof ForeignFileError) throw error // not ours: refused as it is, never repaired
      if (!(error instanceof CorruptStoreError)) throw wrap(`opening ${path}`, error)
      this.#report(error)
    }
    try {
      return open(path, this.#busyTimeout, this.#now, secret)
    } catch (again) {
      if (again instanceof ForeignFileError) throw again
      throw wrap(`re-creating ${path}`, again)
    }
  }
}
