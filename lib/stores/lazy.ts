import { randomBytes } from 'node:crypto'
import type { CacheEntry, EntryMeta } from '../entry/entry.js'
import type { KeyedEntry, Store, StoreRecord } from '../entry/store.js'
import { StoreError } from '../errors.js'
import { unavailableReason } from './unavailable.js'

/** The optional methods of a store (entry/store.ts, capabilities) that a lazy store mirrors. */
const OPTIONAL = ['refresh', 'getMeta', 'metaRecords', 'setAll', 'flush', 'size', 'keysForUrl'] as const

/** What a lazy store needs: how to create the store, and the class it will be (for its capabilities). */
export interface LazyStoreOptions {
  /**
   * Creates the store at its configured path, a new one taking `secret` (the one every key so far was
   * made with); one found there already keeps its own. Throws what opening throws.
   */
  create(secret: string): Store
  /** The prototype of the store `create` returns: its optional methods are the lazy store's. */
  like: object
}

/**
 * A SQLite file or files directory that does not exist, opened by a cache whose settings cannot write
 * (`readOnly`, `onlyIfCached: 'throw'`): it is not created (replaying never writes, and a mistyped
 * fixtures path leaves nothing behind). Until a write comes the cache is an empty one: lookups miss,
 * inspection lists nothing, deletes have nothing to delete. The settings can change at runtime, so a
 * write (`set`, `setAll`) creates the store then, at the configured path, and everything goes to it from
 * then on. One that cannot be created then is reported, and from then on every call fails with the
 * reason, as on an UnavailableStore (the cache runs without a store).
 *
 * Keys hash credentials with the store's secret (the engine remembers keys by it): the secret is chosen
 * here, before any key is made, and the store is created holding it, so every key made before stays
 * valid. Should another process have created the store meanwhile under its own secret, the write that
 * found it is dropped (its key and sealed cookies were made with this one), and `secret` is the store's
 * from then on.
 *
 * The optional methods are those of the store to come (`like`), so the engine detects the same
 * capabilities before and after.
 */
export function lazyStore(options: LazyStoreOptions): Store {
  const provisional = randomBytes(32).toString('hex')
  let real: Store | undefined
  let failed: Error | undefined
  let closed = false

  const usable = (doing: string): void => {
    if (closed) throw new StoreError(`fetch-http-cache: store failed (${doing}): the store is closed for this cache`)
    // Could not be created: from then on it fails as an UnavailableStore does (onError heard it once).
    if (failed) throw failed
  }
  /** The real store, created now if it is not yet; throws when it cannot be (and `usable` from then on). */
  const created = (): Store => {
    if (real) return real
    let store: Store
    try {
      store = options.create(provisional)
    } catch (error) {
      failed = error instanceof StoreError ? unavailableReason(error) : (error as Error)
      throw failed
    }
    real = store
    if (store.secret !== provisional) {
      throw new StoreError(
        'fetch-http-cache: the store was created by another process meanwhile, under its own secret: this write is dropped (later ones are stored)',
      )
    }
    return store
  }

  const core: Store = {
    get secret() {
      return real?.secret ?? provisional
    },
    get(key: string) {
      usable('get')
      return real ? real.get(key) : undefined
    },
    set(key: string, entry: CacheEntry) {
      usable('set')
      return created().set(key, entry)
    },
    delete(keys: readonly string[]) {
      usable('delete')
      return real?.delete(keys)
    },
    clear() {
      usable('clear')
      return real?.clear()
    },
    records(): Iterable<StoreRecord> | AsyncIterable<StoreRecord> {
      usable('records')
      return real ? real.records() : []
    },
    close() {
      if (closed) return
      closed = true
      return real?.close()
    },
  }
  const optional: Record<(typeof OPTIONAL)[number], (...args: never[]) => unknown> = {
    refresh: (key: string, meta: EntryMeta, storedAt: number) => real && call(real, 'refresh', key, meta, storedAt),
    getMeta: (key: string) => real && call(real, 'getMeta', key),
    metaRecords: () => (real ? call(real, 'metaRecords') : []),
    setAll: (entries: readonly KeyedEntry[]) => call(created(), 'setAll', entries),
    flush: () => real && call(real, 'flush'),
    size: () => (real ? call(real, 'size') : 0),
    keysForUrl: (url: string) => (real ? call(real, 'keysForUrl', url) : []),
  }
  const like = options.like as Record<string, unknown>
  for (const name of OPTIONAL) {
    if (typeof like[name] !== 'function') continue
    const method = optional[name]
    Object.defineProperty(core, name, {
      value: (...args: never[]) => {
        usable(name)
        return method(...args)
      },
      enumerable: true,
    })
  }
  return core
}

function call(store: Store, name: string, ...args: unknown[]): unknown {
  return (store as unknown as Record<string, (...args: unknown[]) => unknown>)[name]?.(...args)
}
