import { channel } from 'node:diagnostics_channel'
import { redactUrl } from '../request/key.js'
import { debug } from './debug.js'

/**
 * What the cache does, as `node:diagnostics_channel` events and as counters (`cache.stats()`). The
 * exchange and the engine call the functions below at each decision; each function counts, then
 * publishes only when someone subscribes (`hasSubscribers`), so an unwatched cache builds no event.
 *
 * Events carry the method, the URL as stored (ignored parameters redacted, no user info, no
 * fragment), keys, times and sizes: never a request header, so never a credential.
 */

/** The channel names, one per kind of event. */
export const CHANNELS = Object.freeze({
  lookup: 'fetch-http-cache:lookup',
  store: 'fetch-http-cache:store',
  delete: 'fetch-http-cache:delete',
  revalidate: 'fetch-http-cache:revalidate',
  evict: 'fetch-http-cache:evict',
  error: 'fetch-http-cache:error',
} as const)

/** How a request met the cache: served from it, sent on, or kept out of it. */
export type LookupOutcome = 'hit' | 'stale' | 'miss' | 'coalesced' | 'revalidate' | 'bypass'

/** `fetch-http-cache:lookup`: once per request, when the cache has decided what to do with it. */
export interface LookupEvent {
  method: string
  url: string
  /** The key looked up (the variant's key when a stored `Vary` variant answered), `undefined` for a bypass. */
  key: string | undefined
  /**
   * `hit` (fresh, served), `stale` (served past freshness), `miss` (to the origin), `coalesced` (shares
   * an identical request already sent to the origin), `revalidate` (to the origin with conditions), `bypass`.
   */
  outcome: LookupOutcome
  /** Why, in a few words (e.g. `fresh`, `stale-while-revalidate`, `not stored`, `only-if-cached`, a bypass reason). */
  reason: string
  /** Milliseconds from the start of the request to the decision (the store read included). */
  duration: number
}

/** `fetch-http-cache:store`: a response written to the store. */
export interface StoreEvent {
  method: string
  url: string
  key: string
  status: number
  /** Body bytes stored (without content-coding). */
  size: number
  /** When the entry expires (ms since the epoch), `null` for never. */
  expires: number | null
  /** Milliseconds the store took to write it. */
  duration: number
}

/** `fetch-http-cache:delete`: entries the cache removed on its own. */
export interface DeleteEvent {
  keys: string[]
  /**
   * `invalidated` (RFC 9111 §4.4, with the URLs), `undecodable` (a stored entry that cannot be served, say of an unknown content-coding),
   * `not storable` (after a 304 that forbids storing), or `moved by a new Vary` (a 304 that changed it).
   */
  reason: 'invalidated' | 'undecodable' | 'not storable' | 'moved by a new Vary'
  urls: string[]
}

/** `fetch-http-cache:evict`: entries a store removed to stay within its bounds (SQLite and memory stores). */
export interface EvictEvent {
  keys: string[]
  /** The entries' URLs, as stored (ignored parameters redacted); `''` for an unreadable entry. */
  urls: string[]
  /** `expired` (pruned first when SQLite's maxSize is passed) or `least recently used`. */
  reason: 'expired' | 'least recently used'
  store: 'sqlite' | 'memory'
}

/** `fetch-http-cache:revalidate`: the origin's answer to a conditional request. */
export interface RevalidateEvent {
  method: string
  url: string
  key: string
  status: number
  /** The origin answered 304: the stored response is served, freshened. */
  notModified: boolean
  /** Milliseconds from sending the conditional request to its answer. */
  duration: number
}

/** What failed: `read`, `write`, `delete`, `close` (the store), `key`, `filter`, `decode`. */
export type FailedOperation = 'read' | 'write' | 'delete' | 'close' | 'store' | 'key' | 'filter' | 'decode'

/** The operations on the store itself (counted in `storeErrors`); the others are named as they are. */
export const STORE_OPERATIONS: ReadonlySet<FailedOperation> = new Set(['read', 'write', 'delete', 'close', 'store'])

/** `fetch-http-cache:error`: a failure reported to `onError` (the request went on without the cache). */
export interface ErrorEvent {
  /**
   * What failed: `read`, `write`, `delete` (the store, on a request's behalf), `close`, `store` (the
   * store's own work: connecting, repairing its file, committing writes nobody waits for), `key`,
   * `filter`, `decode`.
   */
  operation: FailedOperation
  error: Error
}

/** What `cache.stats()` returns: counts since the cache was created. */
export interface CacheStats {
  /** Requests answered from the store without asking the origin (fresh, or stale where allowed). */
  hits: number
  /**
   * Requests sent to the origin with nothing to revalidate (nothing stored, not read, or no validator),
   * each its own origin request; also the 504s of `onlyIfCached` with nothing stored.
   */
  misses: number
  /** Requests that shared an identical request already on its way to the origin (`coalesce`): no origin request of their own. */
  coalesced: number
  /** Stored responses served past their freshness (stale-while-revalidate, max-stale, stale-if-error). */
  staleServed: number
  /** Conditional requests sent to the origin (background refreshes included). */
  revalidations: number
  /** Revalidations the origin answered 304 Not Modified. */
  notModified: number
  /** Requests the cache stayed out of (method, body, `cache: 'no-store'`, a bypassing header...). */
  bypasses: number
  /** Responses written to the store, counted once the store confirmed the write. */
  stored: number
  /**
   * Store failures (reads, writes and deletes for requests, and the store's own work), each one; each
   * also published on `fetch-http-cache:error` and reported to `onError` (an outage once per kind).
   */
  storeErrors: number
}

const lookupChannel = channel(CHANNELS.lookup)
const storeChannel = channel(CHANNELS.store)
const deleteChannel = channel(CHANNELS.delete)
const revalidateChannel = channel(CHANNELS.revalidate)
const errorChannel = channel(CHANNELS.error)
const evictChannel = channel(CHANNELS.evict)

/** Whether anyone watches evictions: stores gather the URLs of their victims only then. */
export function evictionsWatched(): boolean {
  return evictChannel.hasSubscribers
}

/** Publishes an eviction (stores call this; it is not counted in `stats()`, which counts requests). */
export function publishEvicted(event: EvictEvent): void {
  if (evictChannel.hasSubscribers) evictChannel.publish(event)
}

/** The counters and the publishing of one engine. */
/** The query parameters events redact: `ignoredParameters` and the credential ones (never hashed here). */
export interface RedactedParameters {
  ignored: ReadonlySet<string>
  credentialParameters: ReadonlySet<string>
}

export class CacheEvents {
  readonly #counts: CacheStats = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    staleServed: 0,
    revalidations: 0,
    notModified: 0,
    bypasses: 0,
    stored: 0,
    storeErrors: 0,
  }
  readonly #redacted: () => RedactedParameters

  /** `redacted` gives the parameters to redact (read at each event: settings change at runtime). */
  constructor(redacted: () => RedactedParameters) {
    this.#redacted = redacted
  }

  /** A copy of the counters. */
  stats(): CacheStats {
    return { ...this.#counts }
  }

  /** A start time for {@link lookup}'s duration: 0 (no clock read) when nobody watches lookups. */
  lookupStart(): number {
    return lookupChannel.hasSubscribers ? performance.now() : 0
  }

  lookup(method: string, url: string, key: string | undefined, outcome: LookupOutcome, reason: string, start: number): void {
    const counts = this.#counts
    if (outcome === 'hit') counts.hits++
    else if (outcome === 'stale') {
      counts.hits++
      counts.staleServed++
    } else if (outcome === 'miss') counts.misses++
    else if (outcome === 'coalesced') counts.coalesced++
    else if (outcome === 'bypass') counts.bypasses++
    const watched = lookupChannel.hasSubscribers
    if (!watched && !debug.enabled) return
    const shown = this.url(url)
    debug('%s %s: %s (%s)', method, shown, outcome, reason)
    if (!watched) return
    const duration = start ? performance.now() - start : 0
    lookupChannel.publish({ method, url: shown, key, outcome, reason, duration } satisfies LookupEvent)
  }

  /**
   * A caller counted `coalesced` did not share the answer after all (it may not be reused for it):
   * its own lookup follows, so that every request is counted once.
   */
  coalescedAlone(): void {
    this.#counts.coalesced--
  }

  /** A stale response served after the origin failed (stale-if-error). */
  staleFallback(): void {
    this.#counts.staleServed++
  }

  /** A start time for the duration of a write or a revalidation: 0 when nobody watches them. */
  start(kind: 'store' | 'revalidate'): number {
    return (kind === 'store' ? storeChannel : revalidateChannel).hasSubscribers ? performance.now() : 0
  }

  stored(method: string, url: string, key: string, status: number, size: number, expires: number | null, start: number): void {
    this.#counts.stored++
    if (!storeChannel.hasSubscribers) return
    const duration = start ? performance.now() - start : 0
    storeChannel.publish({ method, url: this.url(url), key, status, size, expires, duration } satisfies StoreEvent)
  }

  revalidated(method: string, url: string, key: string, status: number, start: number): void {
    this.#counts.revalidations++
    if (status === 304) this.#counts.notModified++
    if (status === 304 && debug.enabled) debug('%s %s: origin 304, not modified', method, this.url(url))
    if (!revalidateChannel.hasSubscribers) return
    const duration = start ? performance.now() - start : 0
    const event: RevalidateEvent = { method, url: this.url(url), key, status, notModified: status === 304, duration }
    revalidateChannel.publish(event)
  }

  deleted(keys: string[], reason: DeleteEvent['reason'], urls: readonly string[]): void {
    if (!deleteChannel.hasSubscribers) return
    deleteChannel.publish({ keys, reason, urls: urls.map((url) => this.url(url)) } satisfies DeleteEvent)
  }

  failed(operation: FailedOperation, error: Error): void {
    if (STORE_OPERATIONS.has(operation)) this.#counts.storeErrors++
    if (errorChannel.hasSubscribers) errorChannel.publish({ operation, error } satisfies ErrorEvent)
  }

  /** A URL as events show it: as stored (ignored parameters redacted, no fragment), and no user info. */
  url(input: string): string {
    try {
      const { ignored, credentialParameters } = this.#redacted()
      // Parsed first: redactUrl passes a URL without query or fragment through unparsed.
      const redacted = redactUrl(new URL(input).href, ignored, { names: credentialParameters, secret: undefined })
      if (!redacted.includes('@')) return redacted
      const url = new URL(redacted)
      url.username = ''
      url.password = ''
      return url.href
    } catch {
      return '(unparsable URL)'
    }
  }
}
