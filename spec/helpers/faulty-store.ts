import { setImmediate as nextTurn } from 'node:timers/promises'
import type { CacheEntry, EntryMeta } from '../../lib/entry/entry.js'
import { capabilities, type KeyedEntry, type MetaRecord, type Store, type StoreRecord } from '../../lib/entry/store.js'
import { StoreError } from '../../lib/errors.js'

/** The store operations a test can make fail; each stands for the methods that do it. */
export type StoreOperation = 'get' | 'set' | 'delete' | 'clear' | 'records'

/**
 * A real store (a SqliteStore or a MemoryStore) that fails on demand, the way a store on a disk or
 * a network fails: every method is asynchronous and a failure arrives as a rejection on a later turn
 * of the event loop, never as a synchronous throw; every capability the inner store has is present
 * and fails with the operation it performs (`refresh` and `setAll` are writes, `getMeta` a read,
 * `metaRecords` a scan). The error is what SqliteStore reports for the condition: a StoreError whose
 * cause carries SQLite's code and message (`SQLITE_FULL` for a full disk, `SQLITE_IOERR`…).
 *
 * It stands for conditions a test must switch on and off at a given request (an I/O error on reads
 * only, then healed). A full disk, a refusing, hanging or killed Redis are produced for real in
 * spec/reliability/real-faults.test.ts.
 */
export class FaultyStore implements Store {
  readonly inner: Store
  /** Operation → SQLite error code it fails with. */
  readonly failing = new Map<StoreOperation, string>()
  /** How many calls failed, by operation. */
  readonly failures: Partial<Record<StoreOperation, number>> = {}
  readonly refresh?: (key: string, meta: EntryMeta, storedAt: number) => Promise<void>
  readonly setAll?: (entries: readonly KeyedEntry[]) => Promise<void>
  readonly getMeta?: (key: string) => Promise<MetaRecord | undefined>
  readonly metaRecords?: () => AsyncIterable<MetaRecord>
  readonly flush?: () => Promise<void>

  constructor(inner: Store) {
    this.inner = inner
    // The capabilities of the store wrapped, and only those: the engine detects them as it would there.
    const { refresh, batch, metadata, flush } = capabilities(inner)
    if (refresh) this.refresh = (key, meta, storedAt) => this.#run('set', () => refresh.refresh(key, meta, storedAt))
    if (batch) this.setAll = (entries) => this.#run('set', () => batch.setAll(entries))
    if (metadata) {
      this.getMeta = (key) => this.#run('get', () => metadata.getMeta(key))
      this.metaRecords = () => this.#scan(() => metadata.metaRecords())
    }
    if (flush) this.flush = async () => flush.flush()
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

  /** The failure `operation` meets now, if it is switched to fail. */
  #fault(operation: StoreOperation): StoreError | undefined {
    const code = this.failing.get(operation)
    if (code === undefined) return undefined
    this.failures[operation] = (this.failures[operation] ?? 0) + 1
    const cause = Object.assign(new Error(MESSAGES[code] ?? `SQLite failed with ${code}`), { code })
    return new StoreError(`fetch-http-cache: SQLite store failed ${operation}: ${cause.message}`, { cause })
  }

  /** Runs `call` on the inner store, or fails, either way on a later turn of the loop (I/O is never synchronous). */
  async #run<T>(operation: StoreOperation, call: () => T | Promise<T>): Promise<T> {
    const fault = this.#fault(operation)
    await nextTurn()
    if (fault) throw fault
    return call()
  }

  async *#scan<T>(scan: () => Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
    const fault = this.#fault('records')
    await nextTurn()
    if (fault) throw fault
    yield* scan()
  }

  get(key: string): Promise<CacheEntry | undefined> {
    return this.#run('get', () => this.inner.get(key))
  }

  set(key: string, entry: CacheEntry): Promise<unknown> {
    return this.#run('set', () => this.inner.set(key, entry))
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.#run('delete', () => this.inner.delete(keys))
  }

  clear(): Promise<void> {
    return this.#run('clear', () => this.inner.clear())
  }

  records(): AsyncIterable<StoreRecord> {
    return this.#scan(() => this.inner.records())
  }

  async close(): Promise<void> {
    await this.inner.close()
  }
}

/** SQLite's own messages for the codes tests use. */
const MESSAGES: Record<string, string> = {
  SQLITE_FULL: 'database or disk is full',
  SQLITE_READONLY: 'attempt to write a readonly database',
  SQLITE_IOERR: 'disk I/O error',
  SQLITE_BUSY: 'database is locked',
}
