import type { CacheEntry } from '../../lib/entry/entry.js'
import type { MaybePromise, Store, StoreRecord } from '../../lib/entry/store.js'
import { StoreError } from '../../lib/errors.js'

export type StoreOperation = 'get' | 'set' | 'delete' | 'clear' | 'records'

/**
 * A real store that fails on demand: it forwards to `inner` (a real SqliteStore or MemoryStore)
 * until an operation is switched to fail, and then throws what a SQLite store throws for that
 * condition: a StoreError whose cause carries the SQLite code (`SQLITE_FULL` for a full disk,
 * `SQLITE_READONLY`, `SQLITE_IOERR`…). It stands for conditions a test cannot produce for real
 * (a full disk; a read-only file for a root user, who ignores file modes), and is itself a store
 * under test, not a mock of the one it wraps.
 */
export class FaultyStore implements Store {
  readonly inner: Store
  /** Operation → SQLite error code it fails with. */
  readonly failing = new Map<StoreOperation, string>()
  /** How many calls failed, by operation. */
  readonly failures: Record<string, number> = {}

  constructor(inner: Store) {
    this.inner = inner
  }

  get secret(): string {
    return this.inner.secret
  }

  /** Makes `operations` fail with `code` until `heal()`. */
  fail(code: string, ...operations: StoreOperation[]): this {
    for (const operation of operations) this.failing.set(operation, code)
    return this
  }

  heal(): this {
    this.failing.clear()
    return this
  }

  #check(operation: StoreOperation): void {
    const code = this.failing.get(operation)
    if (code === undefined) return
    this.failures[operation] = (this.failures[operation] ?? 0) + 1
    const cause = Object.assign(new Error(MESSAGES[code] ?? `SQLite failed with ${code}`), { code })
    throw new StoreError(`fetch-http-cache: SQLite store failed ${operation}: ${cause.message}`, { cause })
  }

  get(key: string): MaybePromise<CacheEntry | undefined> {
    this.#check('get')
    return this.inner.get(key)
  }

  set(key: string, entry: CacheEntry): MaybePromise<void> {
    this.#check('set')
    return this.inner.set(key, entry)
  }

  delete(keys: readonly string[]): MaybePromise<void> {
    this.#check('delete')
    return this.inner.delete(keys)
  }

  clear(): MaybePromise<void> {
    this.#check('clear')
    return this.inner.clear()
  }

  records(): Iterable<StoreRecord> | AsyncIterable<StoreRecord> {
    this.#check('records')
    return this.inner.records()
  }

  close(): MaybePromise<void> {
    return this.inner.close()
  }
}

/** SQLite's own messages for the codes tests use. */
const MESSAGES: Record<string, string> = {
  SQLITE_FULL: 'database or disk is full',
  SQLITE_READONLY: 'attempt to write a readonly database',
  SQLITE_IOERR: 'disk I/O error',
  SQLITE_BUSY: 'database is locked',
}
