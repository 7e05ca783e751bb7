import { randomBytes } from 'node:crypto'
import type { CacheEntry } from '../entry/entry.js'
import type { Store, StoreRecord } from '../entry/store.js'
import { type StoreError, StoreUnavailableError } from '../errors.js'

/** Why a store on the file system could not be opened (or created), as `onError` hears it. */
export function unavailableReason(error: StoreError): StoreUnavailableError {
  return new StoreUnavailableError(`${error.message}; caching is off for this cache (requests go to the network)`, {
    cause: error.cause,
  })
}

/**
 * What a cache runs on when its configured store cannot be opened (a SQLite file in a read-only
 * directory, a path that is not writable): every lookup, write and delete fails with the reason
 * (a `StoreError`), so requests go to the network as if there were no cache, and nothing claims a
 * write that did not happen; so does every inspection call (`count()`, `urls()`, `clear()`…). The engine counts and publishes each failure; `onError` heard the
 * reason once, at open.
 */
export class UnavailableStore implements Store {
  readonly secret: string = randomBytes(32).toString('hex')
  /** Why the configured store could not be used. */
  readonly reason: Error

  constructor(reason: Error) {
    this.reason = reason
  }

  get(_key: string): CacheEntry | undefined {
    throw this.reason
  }

  set(_key: string, _entry: CacheEntry): void {
    throw this.reason
  }

  delete(_keys: readonly string[]): void {
    throw this.reason
  }

  // Inspection fails too: an empty listing or a clear() that "worked" would hide the failure, and
  // the entries the file still holds.
  clear(): void {
    throw this.reason
  }

  // biome-ignore lint/correctness/useYield: it holds nothing it can list; the first step throws.
  *records(): Generator<StoreRecord, void, undefined> {
    throw this.reason
  }

  close(): void {}
}
