import { type CacheEntry, ENTRY_VERSION, isCurrentVariant, varyMarker } from '../entry/entry.js'
import { freshnessFacts } from '../entry/freshness-facts.js'
import { sealCookies } from '../entry/sealed-cookies.js'
import { capabilities, isPromise, type MaybePromise, type Store, type StoreCapabilities } from '../entry/store.js'
import { StoreError } from '../errors.js'
import { contentLanguage, preferredLanguage, withLanguage } from '../http/accept-language.js'
import { responseTags } from '../http/tags.js'
import { varyNames } from '../http/vary.js'
import { debug } from '../observe/debug.js'
import { CacheEvents, type DeleteEvent, type FailedOperation, STORE_OPERATIONS } from '../observe/events.js'
import { errorReporter, type OnError } from '../observe/report.js'
import type { LiveSettings } from '../options/live.js'
import type { ResolvedSettings } from '../options/types.js'
import type { CachePlan } from '../policy/actions.js'
import { mergeNotModified } from '../policy/stored-headers.js'
import { decideWrite, keepsSetCookie } from '../policy/write.js'
import {
  type CredentialParameters,
  createKey,
  credentialsOf,
  normalizeUrl,
  redactUrl,
  storedRequestHeaders,
  variantKey,
} from '../request/key.js'
import { InFlight } from './in-flight.js'
import { LoopTurns } from './loop-turns.js'
import { StoreHealth } from './store-health.js'
import { writeAll } from './store-writes.js'
import { within } from './timers.js'

export { debug }

/** A response as it is about to be stored, before the key and expiry are set. */
export type NewEntry = Omit<
  CacheEntry,
  'v' | 'key' | 'kind' | 'url' | 'requestHeaders' | 'method' | 'bodyDigest' | 'vary' | 'tags' | 'initialAge' | 'directives'
> & { tags?: string[] }

/** The request facts invalidation needs. */
export interface RequestTarget {
  method: string
  /** The request URL as given (not normalized). */
  url: string
  headers: Headers
}

/** An entry handed to the store, and whether the store confirmed the write (settles once it knows). */
export interface Saved {
  entry: CacheEntry
  confirmed: Promise<boolean>
}

/** Request facts every store operation needs. */
export interface KeyedRequest extends RequestTarget {
  bodyDigest: string
  baseKey: string
  /** The engine's invalidations when the request was keyed (InFlight.epoch): its answer is not stored once its key was invalidated since. */
  epoch?: number
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** RFC 9110 §9.2.1: a method that asks for nothing to change (sending it twice is harmless). */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method)
}
/** How many request keys `keyFor` remembers (cleared when full, and when the settings change). */
const KEY_MEMO_SIZE = 4096
/**
 * How long a write to a store that does not write behind may hold the end of the caller's body: a
 * healthy store answers within a few ms; a slow one keeps the write, not the caller.
 */
const WRITE_WAIT_MS = 50

/**
 * The engine both fronts share: key, settings and store, with every store failure caught and
 * reported (a broken cache never breaks a request), and `Vary` variants resolved.
 */
export class Engine {
  readonly store: Store
  /** What the store can do beyond the core contract, detected once. */
  readonly capabilities: StoreCapabilities
  readonly live: LiveSettings
  readonly now: () => number
  /** Requests served, coalesced misses, recordings and background refreshes in flight. */
  readonly inFlight = new InFlight()
  /** Whether hits have kept the event loop from turning for too long (engine/loop-turns.ts). */
  readonly loopTurns = new LoopTurns()
  #closed = false
  /** Counters (`cache.stats()`) and `diagnostics_channel` events. */
  readonly events: CacheEvents = new CacheEvents(() => this.settings)
  /** Whether the store is down, and which of its failures `onError` has heard. */
  readonly health: StoreHealth

  /** `onError` as the settings say now, else the default warning (observe/report.ts). */
  readonly deliver: OnError

  /**
   * `opened.deliver`: the reporter the store was opened with (one set of codes warned about);
   * `opened.unavailable`: why the configured store could not be opened (already told to `onError`).
   */
  constructor(
    store: Store,
    live: LiveSettings,
    now: () => number = Date.now,
    opened: { deliver?: OnError; unavailable?: Error } = {},
  ) {
    this.store = store
    this.capabilities = capabilities(store)
    this.live = live
    this.now = now
    this.deliver = opened.deliver ?? errorReporter(() => this.settings.onError)
    this.health = new StoreHealth(opened.unavailable)
    // Counted and published like any store failure (onError heard it at open).
    if (opened.unavailable) this.events.failed('store', opened.unavailable)
  }

  /**
   * Closes the cache: answers whose bodies end from now on are not stored (their writes would reach a
   * closed store), and the store is closed when it is the cache's own.
   */
  async close(owned: boolean): Promise<void> {
    this.#closed = true
    if (owned) await this.store.close()
  }

  /** Whether `close()` has been called: nothing is stored from then on. */
  get closed(): boolean {
    return this.#closed
  }

  get settings(): ResolvedSettings {
    return this.live.resolved
  }

  /** A URL as debug output shows it: ignored parameters redacted, as in the store. Free when debug is off. */
  redact(url: string): string {
    return debug.enabled ? this.events.url(url) : url
  }

  /** Credential query parameters as keys and stored URLs carry them: hashed with the store's secret. */
  urlCredentials(): CredentialParameters {
    return { names: this.settings.credentialParameters, secret: this.store.secret }
  }

  /** A URL as invalidations name it for requests in flight (InFlight.invalidate): keys' form, partition aside. */
  normalizedUrl(url: string): string {
    return normalizeUrl(url, this.settings.ignored, this.urlCredentials())
  }

  /** The base key of a request (before `Vary`). */
  keyFor(method: string, url: string, headers: Headers, bodyDigest: string): string {
    const settings = this.settings
    const compute = () =>
      createKey(
        { method, url: normalizeUrl(url, settings.ignored, this.urlCredentials()), headers, bodyDigest },
        settings,
        this.store.secret,
      )
    // The common request (no body, no matched headers, no custom key) keys on method, URL and
    // credentials alone: remember those keys instead of parsing the URL and hashing on every hit.
    if (bodyDigest !== '' || settings.keyFn || settings.matchHeaders === true || settings.matchHeaders.length > 0)
      return compute()
    if (url.length > 2048) return compute()
    // A store's secret can change (Redis: provisional until the shared one is read): keys follow it.
    const secret = this.store.secret
    if (this.#memoFor !== settings || this.#memoSecret !== secret) {
      this.#memo.clear()
      this.#memoFor = settings
      this.#memoSecret = secret
    }
    // The credentials the request carries partition its key: one line each (a field value holds no
    // newline), then an empty line and the URL, so no URL can pass for a credential.
    let id = method
    for (const [index, value] of credentialsOf(headers, settings.credentialHeaders)) id += `\n${index}=${value}`
    id += `\n\n${url}`
    let key = this.#memo.get(id)
    if (key === undefined) {
      key = compute()
      if (this.#memo.size >= KEY_MEMO_SIZE) this.#memo.clear()
      this.#memo.set(id, key)
    }
    return key
  }

  #memo = new Map<string, string>()
  #memoFor: ResolvedSettings | undefined
  #memoSecret: string | undefined
  #ready: Promise<void> | true | undefined

  /**
   * `undefined` once the store can be used, else a promise of that: a store that learns its secret
   * over the network (Redis) is waited for once, within its own connect timeout, so the first
   * requests are keyed with the shared secret rather than bypassing the cache.
   */
  whenReady(): Promise<void> | undefined {
    if (this.#ready === true) return undefined
    const readying = this.capabilities.ready
    if (!readying) {
      this.#ready = true
      return undefined
    }
    this.#ready ??= readying.ready().then(
      () => {
        this.#ready = true
      },
      () => {
        this.#ready = true
      },
    )
    return this.#ready
  }

  /**
   * The stored response for a request, following a `Vary` marker to the matching variant. Answers
   * synchronously when the store does (SQLite, memory): a hit then costs no extra turn of the loop.
   */
  lookup(request: KeyedRequest): MaybePromise<CacheEntry | undefined> {
    try {
      const found = this.store.get(request.baseKey)
      if (!isPromise(found)) return this.#variantOf(request, this.#answered(found))
      return found.then((entry) => this.#variantOf(request, this.#answered(entry))).catch((error) => this.#readFailed(error))
    } catch (error) {
      return this.#readFailed(error)
    }
  }

  /** The store answered: whatever outage it was in is over. */
  #answered<T>(value: T): T {
    this.health.answered()
    return value
  }

  #variantOf(request: KeyedRequest, entry: CacheEntry | undefined): MaybePromise<CacheEntry | undefined> {
    if (entry?.kind !== 'vary') return entry
    const marker = entry
    const pick = (variant: CacheEntry | undefined) => (isCurrentVariant(marker, variant) ? variant : undefined)
    const found = this.store.get(variantKey(request.baseKey, marker.vary ?? [], request.headers, this.store.secret))
    const orLanguage = (variant: CacheEntry | undefined) => pick(variant) ?? this.#languageVariant(request, marker, pick)
    return isPromise(found) ? found.then(orLanguage) : orLanguage(found)
  }

  /**
   * rfc: RFC 9111 §4.1 lets a cache select a variant by what the selecting header means: with
   * `Vary: Accept-Language`, the stored variant whose `Content-Language` is the language the request
   * prefers most (by `q`) answers it, whatever else it lists. `save` keeps each such variant under the
   * key its own language selects as well.
   */
  #languageVariant(
    request: KeyedRequest,
    marker: CacheEntry,
    pick: (variant: CacheEntry | undefined) => CacheEntry | undefined,
  ): MaybePromise<CacheEntry | undefined> {
    const vary = marker.vary ?? []
    const preferred = vary.includes('accept-language') ? preferredLanguage(request.headers.get('accept-language')) : undefined
    if (preferred === undefined) return undefined
    const found = this.store.get(variantKey(request.baseKey, vary, withLanguage(request.headers, preferred), this.store.secret))
    const speaks = (variant: CacheEntry | undefined) => {
      const chosen = pick(variant)
      return chosen && contentLanguage(chosen.headers) === preferred ? chosen : undefined
    }
    return isPromise(found) ? found.then(speaks) : speaks(found)
  }

  #readFailed(error: unknown): undefined {
    this.report(error, 'read')
    return undefined
  }

  /**
   * The stored response that can answer a request: its own or, for a HEAD request, the stored
   * response to GET (RFC 9110 §9.3.2: HEAD asks for what GET would send, without the body).
   */
  lookupFor(request: KeyedRequest): MaybePromise<CacheEntry | undefined> {
    const found = this.lookup(request)
    if (request.method !== 'HEAD' || !this.settings.allowableMethods.has('GET')) return found
    return isPromise(found) ? found.then((entry) => entry ?? this.#lookupGet(request)) : (found ?? this.#lookupGet(request))
  }

  #lookupGet(request: KeyedRequest): MaybePromise<CacheEntry | undefined> {
    let baseKey: string
    try {
      baseKey = this.keyFor('GET', request.url, request.headers, request.bodyDigest)
    } catch (error) {
      this.report(error, 'key')
      return undefined
    }
    return this.lookup({ ...request, method: 'GET', baseKey })
  }

  /** The distinct request URLs of the stored responses (read from metadata where the store can). */
  async storedUrls(): Promise<Set<string>> {
    const urls = new Set<string>()
    const metadata = this.capabilities.metadata
    if (metadata) {
      for await (const { meta } of metadata.metaRecords()) if (meta?.kind === 'response') urls.add(meta.url)
    } else {
      for await (const { entry } of this.store.records()) if (entry?.kind === 'response') urls.add(entry.url)
    }
    return urls
  }

  /**
   * The key a response with these header fields is stored under for `request`: the request's own, or
   * with `Vary` its variant's (RFC 9111 §4.1). Known as soon as the response's header fields are.
   */
  storageKey(request: KeyedRequest, headers: readonly [string, string][]): string {
    const vary = varyNames(headers)
    return vary ? variantKey(request.baseKey, vary, request.headers, this.store.secret) : request.baseKey
  }

  /**
   * Hands a response to the store for a request (with `Vary`, as one variant beside the others), and
   * resolves once the store accepted it: this process reads it from then on. `confirmed` settles once
   * the store says whether it is written (a write-behind store commits later): only then is it
   * counted as stored and published (`fetch-http-cache:store`), and a failure counted and reported.
   * `undefined` when the store refused it at once.
   */
  async save(request: KeyedRequest, response: NewEntry): Promise<Saved | undefined> {
    if (this.#closed) {
      debug('%s %s: not stored, the cache is closed', request.method, this.redact(request.url))
      return undefined
    }
    // As invalidation removes them: GET and HEAD responses (engine/invalidation.ts).
    const invalidates = request.method === 'GET' || request.method === 'HEAD'
    if (
      invalidates &&
      request.epoch !== undefined &&
      this.inFlight.invalidatedSince(request.epoch, () => this.normalizedUrl(request.url))
    ) {
      debug('%s %s: not stored, invalidated while in flight', request.method, this.redact(request.url))
      return undefined
    }
    const settings = this.settings
    const secret = this.store.secret
    const vary = varyNames(response.headers)
    const key = vary ? variantKey(request.baseKey, vary, request.headers, secret) : request.baseKey
    const credentials = this.urlCredentials()
    const url = redactUrl(request.url, settings.ignored, credentials)
    const entry: CacheEntry = {
      ...response,
      ...freshnessFacts(response),
      headers: sealCookies(response.headers, secret),
      v: ENTRY_VERSION,
      key,
      kind: 'response',
      method: request.method,
      url,
      // The response URL repeats the request's query (and a redirect's): redact it the same way.
      responseUrl: response.responseUrl === request.url ? url : redactUrl(response.responseUrl, settings.ignored, credentials),
      requestHeaders: storedRequestHeaders(request.headers, settings, secret),
      bodyDigest: request.bodyDigest,
      ...(vary ? { vary } : {}),
    }
    withTags(entry, settings.tagHeaders)
    const started = this.events.start('store')
    let written: Promise<unknown[]>
    try {
      // rfc: an existing marker with the same Vary is kept, so its time still dates the variants it covers.
      const marker = vary ? await this.store.get(request.baseKey) : undefined
      const kept = marker?.kind === 'vary' && marker.vary?.join(',') === vary?.join(',')
      const writes = [{ key, entry }]
      if (vary && !kept) {
        writes.unshift({ key: request.baseKey, entry: varyMarker(entry, request.baseKey) })
      }
      // The same variant under the key a request preferring its language selects (#languageVariant).
      const language = vary?.includes('accept-language') ? contentLanguage(entry.headers) : undefined
      if (vary && language !== undefined) {
        const languageKey = variantKey(request.baseKey, vary, withLanguage(request.headers, language), secret)
        if (languageKey !== key) writes.push({ key: languageKey, entry: { ...entry, key: languageKey } })
      }
      written = writeAll(this.store, this.capabilities, writes)
    } catch (error) {
      this.report(error, 'write')
      return undefined
    }
    const confirmed = written.then(
      (kept) => {
        this.health.answered()
        const stored = !kept.includes(false) // false: larger than the store holds
        debug(
          '%s %s: %s (%d bytes)',
          entry.method,
          this.redact(request.url),
          stored ? 'stored' : 'too large to keep',
          entry.body.byteLength,
        )
        if (!stored) return false
        this.events.stored(entry.method, entry.url, key, entry.status, entry.body.byteLength, entry.expires, started)
        return true
      },
      (error: unknown) => {
        this.report(error, 'write')
        return false
      },
    )
    // A store that writes behind (it has flush()) is read back at once; any other once it answered, so
    // that the caller's next request finds it, but never longer than WRITE_WAIT_MS: the caller's body
    // ends then, whatever a slow store (a Redis server not answering) does with the write.
    if (!this.capabilities.flush) await within(confirmed, WRITE_WAIT_MS)
    return { entry, confirmed }
  }

  /**
   * RFC 9111 §4.3.4: the entry freshened by a 304 (new header fields, new expiry), stored again, or
   * dropped when its new headers no longer allow storing it. Both fronts answer a 304 through here.
   */
  async renew(
    plan: CachePlan,
    entry: CacheEntry,
    notModified: Headers,
    requestTime: number,
    responseTime: number,
  ): Promise<{ entry: CacheEntry; stored: boolean }> {
    const updated = mergeNotModified(entry, notModified, requestTime, responseTime, keepsSetCookie(plan, this.settings))
    const facts = { status: entry.status, headers: new Headers(updated.headers), requestTime, responseTime }
    const decision = decideWrite(plan, facts, this.settings, responseTime)
    const renewed: CacheEntry = { ...updated, createdAt: responseTime, expires: decision.store ? decision.expires : responseTime }
    withTags(renewed, this.settings.tagHeaders)
    if (!plan.write) return { entry: renewed, stored: false }
    if (!decision.store) {
      await this.remove([entry.key], 'not storable', [entry.url])
      return { entry: renewed, stored: false }
    }
    return { entry: renewed, stored: await this.update(renewed, entry.createdAt) }
  }

  /**
   * Replaces an entry after revalidation (same key, same body). With `storedAt` (the `createdAt` of
   * the entry revalidated), a store that can refreshes the metadata only, and only if that entry is
   * still the one stored. Resolves to whether the store took it (a store that writes behind commits
   * it later, and reports a failure then).
   */
  async update(entry: CacheEntry, storedAt?: number): Promise<boolean> {
    if (this.#closed) return false
    try {
      // A 304's Set-Cookie arrives in clear beside the sealed ones it replaces.
      entry = { ...entry, headers: sealCookies(entry.headers, this.store.secret) }
      const refreshing = this.capabilities.refresh
      if (storedAt !== undefined && refreshing) await refreshing.refresh(entry.key, entry, storedAt)
      else await this.store.set(entry.key, entry)
      return this.health.down === undefined
    } catch (error) {
      this.report(error, 'write')
      return false
    }
  }

  /** Deletes entries by key, reporting failures; `reason` and `urls` say why to `fetch-http-cache:delete`. */
  async remove(keys: string[], reason: DeleteEvent['reason'], urls: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    try {
      await this.store.delete(keys)
      this.events.deleted(keys, reason, urls)
    } catch (error) {
      this.report(error, 'delete')
    }
  }

  /**
   * Reports a cache failure: counted and published every time; told to `onError` (default: a warning
   * once per code) every time too, except an outage of the store, told once per kind until the store
   * answers again (StoreHealth). Never throws.
   */
  report(error: unknown, operation: FailedOperation): void {
    const wrapped =
      error instanceof Error && 'code' in error && String(error.code).startsWith('FETCH_HTTP_CACHE')
        ? error
        : new StoreError(
            `fetch-http-cache: ${STORE_OPERATIONS.has(operation) ? 'store ' : ''}${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
            {
              cause: error,
            },
          )
    debug('%s failed: %s', operation, wrapped.message)
    this.events.failed(operation, wrapped)
    if (this.health.failed(wrapped, error)) this.deliver(wrapped)
  }
}

/** Sets (or clears) `entry.tags` from its stored header fields. */
function withTags(entry: CacheEntry, tagHeaders: readonly string[]): void {
  const tags = responseTags(entry.headers, tagHeaders)
  if (tags) entry.tags = tags
  else delete entry.tags
}
