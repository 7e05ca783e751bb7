import type { Engine } from '../engine/engine.js'
import { nextTurn } from '../engine/timers.js'
import type { CacheEntry, EntryMeta } from '../entry/entry.js'
import { isCurrentVariant, metaSize, varyMarker } from '../entry/entry.js'
import type { MetaRecord, Store, StoreRecord } from '../entry/store.js'
import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import type { CacheStats } from '../observe/events.js'
import { type ExpireAfter, expiresAt, parseExpireAfter } from '../options/expire-after.js'
import { createKey, normalizeUrl, variantKey } from '../request/key.js'
import {
  type CacheDeleteOptions,
  type CacheFilter,
  type ContainsQuery,
  deleteMatches,
  describeEntry,
  filterMatches,
  type InvalidEntry,
  type ParsedFilter,
  parseDelete,
  parseFilter,
  type StoredResponse,
  sameUrl,
} from './query.js'
import { planRekey, type RekeyClaim } from './rekey.js'

/** Rows read between two turns of the event loop: maintenance of a large cache never blocks it for long. */
const SLICE = 256

/**
 * The inspection and maintenance API of one cache (`cachedFetch.cache`, `getCache()`): requests-cache's
 * `session.cache`. It works on any store through the small store contract. Store failures are thrown
 * (as `StoreError`): here the caller asked for the store, there is no request to protect.
 *
 * Vary markers (the rows that point a base key at its variants) are bookkeeping: they are never listed
 * or counted, they move with their variants, and they go when no response is left for their URL.
 *
 * Listing, counting, `contains`, `delete` and `resetExpiration` read metadata only (`metaRecords()`,
 * `getMeta()`, `refresh()` when the store has them): no body is read unless asked for. Every scan
 * yields to the event loop between slices of rows.
 */
export class Cache {
  readonly #engine: Engine
  readonly #owned: boolean

  constructor(engine: Engine, owned: boolean) {
    this.#engine = engine
    this.#owned = owned
  }

  /** The store entries live in. */
  get store(): Store {
    return this.#engine.store
  }

  /**
   * The stored responses, in store order, as {@link StoredResponse}s; with `filter`, as `filter()` selects.
   *
   * @example
   * for await (const response of cachedFetch.cache.responses()) console.log(response.url, response.status)
   */
  responses(filter: CacheFilter & { invalid: true }): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined>
  responses(filter?: CacheFilter & { invalid?: false }): AsyncGenerator<StoredResponse, void, undefined>
  responses(filter?: CacheFilter): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined>
  responses(filter?: CacheFilter): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined> {
    return this.#select(parseFilter(filter, this.#engine.now()))
  }

  /**
   * The responses in the groups `options` selects (by default valid and expired ones), with `invalid`
   * rows as {@link InvalidEntry}; `olderThan` narrows to responses created before it. Options are
   * checked at the call, before the first row is read.
   *
   * @example
   * for await (const old of cache.filter({ valid: false, expired: true })) console.log('expired:', old.url)
   */
  filter(options: CacheFilter & { invalid: true }): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined>
  filter(options?: CacheFilter & { invalid?: false }): AsyncGenerator<StoredResponse, void, undefined>
  filter(options?: CacheFilter): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined>
  filter(options?: CacheFilter): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined> {
    return this.#select(parseFilter(options, this.#engine.now()))
  }

  /** The distinct request URLs of the responses `filter` selects (every response by default), sorted. */
  async urls(filter?: CacheFilter): Promise<string[]> {
    const urls = new Set<string>()
    for await (const item of this.#select(parseFilter(filter, this.#engine.now()))) if (!item.invalid) urls.add(item.url)
    return [...urls].sort()
  }

  /**
   * Whether a response is stored: under `key`; or for what `fetch(url)` would ask (GET, or `method`,
   * without headers); or for a bodyless `Request` (its method, URL and headers), following `Vary` as a
   * lookup does. Freshness is not considered: an expired response is still contained.
   */
  async contains(query: ContainsQuery): Promise<boolean> {
    const store = this.#engine.store
    if (typeof query !== 'object' || query === null)
      throw new InvalidOptionTypeError('query', query, 'an object { key }, { url } or { request }')
    const forms = (['key', 'url', 'request'] as const).filter((name) => name in query)
    if (forms.length !== 1) throw new InvalidOptionValueError('query', query, 'must have exactly one of key, url or request')
    if ('key' in query) {
      if (typeof query.key !== 'string') throw new InvalidOptionTypeError('key', query.key, 'a string')
      return (await this.#meta(query.key))?.kind === 'response'
    }
    let method: string
    let url: string
    let headers: Headers
    if ('request' in query) {
      const { request } = query
      // Duck-typed: a Request from the undici package is not an instance of the global Request.
      if (!isRequestLike(request)) throw new InvalidOptionTypeError('request', request, 'a Request')
      if (request.body != null)
        throw new InvalidOptionValueError('request', request, 'must have no body: requests with a body are not cached')
      method = request.method
      url = request.url
      headers = new Headers(request.headers)
    } else {
      const given: unknown = query.url
      if (given instanceof URL) url = given.href
      else if (typeof given === 'string' && URL.canParse(given)) url = given
      else throw new InvalidOptionValueError('url', given, 'must be an absolute URL')
      const asked: unknown = query.method ?? 'GET'
      if (typeof asked !== 'string') throw new InvalidOptionTypeError('method', asked, 'a string')
      method = asked.toUpperCase()
      headers = new Headers()
    }
    const baseKey = this.#engine.keyFor(method, url, headers, '')
    const entry = await this.#meta(baseKey)
    if (entry?.kind !== 'vary') return entry !== undefined
    const variant = await this.#meta(variantKey(baseKey, entry.vary ?? [], headers, store.secret))
    return isCurrentVariant(entry, variant)
  }

  /**
   * Deletes every entry in any of the groups `options` names; returns how many responses (and
   * unreadable rows) went. Vary markers left without a response for their URL go too, uncounted.
   *
   * @example
   * await cache.delete({ expired: true, invalid: true })
   * await cache.delete({ olderThan: '30d' })
   * await cache.delete({ urls: ['https://api.example.com/users'] })
   */
  async delete(options: CacheDeleteOptions): Promise<number> {
    const engine = this.#engine
    const ignored = engine.settings.ignored
    const now = engine.now()
    const parsed = parseDelete(options, now, ignored, engine.urlCredentials())
    const doomed: string[] = []
    const markers: string[] = []
    const kept = new Map<string, string>() // marker key → its URL group
    const remaining = new Set<string>()
    for await (const { key, meta: entry } of this.#scan()) {
      if (entry === undefined) {
        if (parsed.invalid || parsed.keys.has(key)) doomed.push(key)
      } else if (entry.kind === 'vary') {
        if (parsed.keys.has(key) || parsed.urls.has(sameUrl(entry.url, ignored))) markers.push(key)
        else kept.set(key, urlGroup(entry, ignored))
      } else if (deleteMatches(parsed, key, entry, now, ignored)) {
        doomed.push(key)
      } else {
        remaining.add(urlGroup(entry, ignored))
      }
    }
    for (const [key, group] of kept) if (!remaining.has(group)) markers.push(key)
    await engine.store.delete([...doomed, ...markers])
    return doomed.length
  }

  /**
   * Re-stamps every stored response's expiry from now, as `expireAfter` says (the forms of the
   * `expireAfter` option). Returns how many responses were re-stamped.
   *
   * @example
   * await cache.resetExpiration('1h') // everything stored is fresh for another hour
   */
  async resetExpiration(expireAfter: ExpireAfter): Promise<number> {
    const expiry = parseExpireAfter('expireAfter', expireAfter)
    const store = this.#engine.store
    const expires = expiresAt(expiry, this.#engine.now())
    const found: EntryMeta[] = []
    for await (const { meta } of this.#scan()) if (meta !== undefined) found.push(meta)
    // A write is a use. The memory store lists the most recently used first: writing in reverse keeps
    // its order of use, so the next eviction still takes the least recently used entry.
    let count = 0
    const refreshing = this.#engine.capabilities.refresh
    for (const [i, meta] of found.reverse().entries()) {
      if (refreshing) {
        // Metadata only; a response stored since the scan (another createdAt) is left as it is.
        await refreshing.refresh(meta.key, { ...meta, expires }, meta.createdAt)
      } else {
        const entry = await store.get(meta.key)
        if (entry === undefined) continue
        await store.set(meta.key, { ...entry, expires })
      }
      if (meta.kind === 'response') count++
      if ((i + 1) % SLICE === 0) await nextTurn()
    }
    return count
  }

  /**
   * Re-keys every stored response under the current key rules (after `matchHeaders`,
   * `ignoredParameters` or `keyFn` changed), from its stored method, URL, request headers and body
   * digest. Credentials are stored as keyed hashes, and are keyed as such: a later request with the
   * same credential still hits. When the new rules no longer tell two responses apart, the most
   * recently stored one is kept. Unreadable rows are left as they are. Returns how many responses moved
   * to a new key.
   *
   * Limits: a header named in `Vary` that `ignoredParameters` redacted is keyed by `REDACTED`, so that
   * variant misses from then on; a `keyFn` sees the hashed credentials.
   */
  async recreateKeys(): Promise<number> {
    const store = this.#engine.store
    const claims: RekeyClaim[] = []
    const stored: string[] = []
    const markers = new Set<string>()
    for await (const { key, meta: entry } of this.#scan()) {
      if (entry === undefined) continue
      stored.push(key)
      if (entry.kind === 'vary') {
        markers.add(key)
        continue
      }
      let keys: { base: string; key: string }
      try {
        keys = this.#keysOf(entry)
      } catch {
        continue // headers that no longer parse: leave the entry where it is
      }
      claims.push({ kind: 'move', from: key, to: keys.key, createdAt: entry.createdAt })
      if (entry.vary) {
        // The entry may carry its body (a store without metaRecords()): the marker's is empty.
        const marker = varyMarker(entry, keys.base)
        claims.push({ kind: 'marker', to: keys.base, createdAt: entry.createdAt, marker })
      }
    }
    const plan = planRekey(claims, stored, markers)

    // A move may land on a key another move has yet to read from: read that one first and keep it.
    const pending = new Set(plan.moves.map((move) => move.from))
    const displaced = new Map<string, CacheEntry | undefined>()
    for (const { from, to } of plan.moves) {
      const entry = displaced.has(from) ? displaced.get(from) : await store.get(from)
      pending.delete(from)
      if (entry === undefined) continue // gone since it was listed
      if (pending.has(to) && !displaced.has(to)) displaced.set(to, await store.get(to))
      await store.set(to, { ...entry, key: to })
    }
    for (const marker of plan.markers) await store.set(marker.key, marker)
    await store.delete(plan.remove)
    return plan.moves.length
  }

  /** How many responses are stored (Vary markers and unreadable rows not counted). */
  async count(): Promise<number> {
    let count = 0
    for await (const { meta } of this.#scan()) if (meta?.kind === 'response') count++
    return count
  }

  /**
   * The bytes the store holds, by its own count when it keeps one (SQLite: bodies plus serialized
   * metadata; memory: `entrySize()`), else the sum of `entrySize()` over readable rows.
   */
  async size(): Promise<number> {
    const sized = this.#engine.capabilities.size
    if (sized) return sized.size()
    let size = 0
    for await (const { meta, bodySize } of this.#scan()) if (meta) size += metaSize(meta, bodySize)
    return size
  }

  /**
   * What this cache has done since it was created (in this process): hits, misses, stale responses
   * served, revalidations and 304s, bypasses, responses stored, store errors. Counted as requests go,
   * at no cost worth measuring; the store keeps no counters, so a new process starts from zero.
   *
   * @example
   * const { hits, misses } = cachedFetch.cache.stats()
   * console.log(`hit ratio ${(hits / (hits + misses)).toFixed(2)}`)
   */
  stats(): CacheStats {
    return this.#engine.events.stats()
  }

  /** Deletes every entry. */
  async clear(): Promise<void> {
    await this.#engine.store.clear()
  }

  /**
   * Resolves once the writes accepted so far are committed where other processes see them (the SQLite
   * store writes behind the request), or given up and reported to `onError`; at once for a store that
   * writes as it is asked.
   */
  async flush(): Promise<void> {
    await this.#engine.capabilities.flush?.flush()
  }

  /** Closes the store (only when the cache opened it; a store passed in stays the caller's). */
  async close(): Promise<void> {
    await this.#engine.close(this.#owned)
  }

  async *#select(filter: ParsedFilter): AsyncGenerator<StoredResponse | InvalidEntry, void, undefined> {
    const now = this.#engine.now()
    for await (const { key, meta, bodySize } of this.#scan()) {
      if (meta?.kind === 'vary') continue
      if (meta === undefined) {
        if (filter.invalid) yield { invalid: true, key }
      } else if (filterMatches(filter, meta, now)) {
        yield describeEntry(key, meta, bodySize, now, () => this.#body(key))
      }
    }
  }

  /**
   * Every row's metadata: without bodies when the store can (`metaRecords()`), else from `records()`;
   * with a turn of the event loop every {@link SLICE} rows.
   */
  async *#scan(): AsyncGenerator<MetaRecord, void, undefined> {
    const metadata = this.#engine.capabilities.metadata
    const rows = metadata ? metadata.metaRecords() : withoutBodies(this.#engine.store.records())
    let count = 0
    for await (const row of rows) {
      yield row
      if (++count % SLICE === 0) await nextTurn()
    }
  }

  /** The metadata of the row under `key`: without its body when the store can. */
  async #meta(key: string): Promise<EntryMeta | undefined> {
    const metadata = this.#engine.capabilities.metadata
    return metadata ? (await metadata.getMeta(key))?.meta : await this.#engine.store.get(key)
  }

  async #body(key: string): Promise<Uint8Array | undefined> {
    return (await this.#engine.store.get(key))?.body
  }

  /** An entry's base key and key under the current rules, from what was stored about its request. */
  #keysOf(entry: EntryMeta): { base: string; key: string } {
    const engine = this.#engine
    const settings = engine.settings
    const secret = engine.store.secret
    const headers = new Headers(entry.requestHeaders)
    const url = normalizeUrl(entry.url, settings.ignored)
    const base = createKey(
      { method: entry.method, url, headers, bodyDigest: entry.bodyDigest, credentialsHashed: true },
      settings,
      secret,
    )
    return { base, key: entry.vary ? variantKey(base, entry.vary, headers, secret, true) : base }
  }
}

async function* withoutBodies(
  records: Iterable<StoreRecord> | AsyncIterable<StoreRecord>,
): AsyncGenerator<MetaRecord, void, undefined> {
  for await (const { key, entry } of records) yield { key, meta: entry, bodySize: entry?.body.byteLength ?? 0 }
}

/** Responses and Vary markers for one request URL share a group: a marker outlives its URL's last response by nothing. */
function urlGroup(entry: EntryMeta, ignored: ReadonlySet<string>): string {
  return `${entry.method} ${sameUrl(entry.url, ignored)}`
}

function isRequestLike(value: unknown): value is Request {
  if (typeof value !== 'object' || value === null) return false
  const request = value as Partial<Record<keyof Request, unknown>>
  return (
    typeof request.url === 'string' &&
    typeof request.method === 'string' &&
    typeof (request.headers as Headers | undefined)?.get === 'function'
  )
}
