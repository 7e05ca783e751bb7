import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'

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

const KNOWN_OPTIONS: { [K in keyof SqliteStoreOptions]-?: true } = {
  path: true,
  maxSize: true,
  busyTimeout: true,
  onError: true,
  now: true,
}

/** Validates `new SqliteStore(options)`: typed errors naming the option and the value. */
export function checkOptions(options: SqliteStoreOptions): void {
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
