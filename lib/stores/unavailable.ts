import { randomBytes } from 'node:crypto'
import type { CacheEntry } from '../entry/entry.js'
import type { Store, StoreRecord } from '../entry/store.js'

/**
 * What a cache runs on when its configured store cannot be opened (a SQLite file in a read-only
 * directory, a path that is not writable): every lookup misses and every write is dropped, so
 * requests go to the network as if there were no cache. The failure was reported once, at open;
 * it is not repeated on every request.
 */
export class UnavailableStore implements Store {
  readonly secret: string = randomBytes(32).toString('hex')
  /** Why the configured store could not be used. */
  readonly reason: Error

  constructor(reason: Error) {
    this.reason = reason
  }

  get(_key: string): CacheEntry | undefined {
    return undefined
  }

  set(_key: string, _entry: CacheEntry): void {}

  delete(_keys: readonly string[]): void {}

  clear(): void {}

  *records(): Generator<StoreRecord, void, undefined> {}

  close(): void {}
}
