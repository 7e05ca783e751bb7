import type { FetchCacheErrorCode } from '../errors.js'

/**
 * What the engine knows of its store's health, from what it has seen (lib/README.md, "Watching"). A
 * failure that means "the store cannot be used now" (a server unreachable or not answering in time,
 * a file that could not be opened) puts the store down until it answers again. That decides two things:
 *
 * - whether `onError` hears a failure: every failure is counted and published, and reaches `onError`,
 *   except that an outage is told once per kind until the store answers again, however many
 *   requests meet it (each is still counted and published);
 * - what responses say: while the store is down, `Cache-Status` carries `detail=store-unavailable`
 *   and never `stored`.
 */

const OUTAGES: ReadonlySet<FetchCacheErrorCode> = new Set([
  'FETCH_HTTP_CACHE_STORE_TIMEOUT',
  'FETCH_HTTP_CACHE_STORE_UNAVAILABLE',
])

export class StoreHealth {
  #down: Error | undefined
  /** Kinds of outage told to `onError` since the store last answered. */
  readonly #told = new Set<string>()
  /** Failures other than outages told to `onError`. */
  readonly #heard = new WeakSet<object>()

  /** `unavailable`: the store is down from the start, and `onError` has heard why. */
  constructor(unavailable?: Error) {
    if (unavailable) this.failed(unavailable)
  }

  /** The failure that put the store down, while it is down. */
  get down(): Error | undefined {
    return this.#down
  }

  /**
   * Notes a failure (`error`, made from `cause`); returns whether `onError` should hear it. The same
   * `cause` is told once: one failure of many writes (a SQLite batch given up together) is counted
   * and published for each write.
   */
  failed(error: Error, cause: unknown = error): boolean {
    const code = (error as { code?: unknown }).code as FetchCacheErrorCode
    if (!OUTAGES.has(code)) {
      if (typeof cause !== 'object' || cause === null) return true
      if (this.#heard.has(cause)) return false
      this.#heard.add(cause)
      return true
    }
    this.#down = error
    const kind = `${code} ${error.name}`
    if (this.#told.has(kind)) return false
    this.#told.add(kind)
    return true
  }

  /** The store answered (a read, or a write it confirmed): an outage is over, and the next one is news. */
  answered(): void {
    if (this.#down === undefined) return
    this.#down = undefined
    this.#told.clear()
  }
}
