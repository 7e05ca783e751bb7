import { randomBytes } from 'node:crypto'
import { debuglog } from 'node:util'
import { unpack } from '../entry/codec.js'
import type { CacheEntry } from '../entry/entry.js'
import type { BatchingStore, KeyedEntry, ReadyingStore, SizedStore, Store, StoreRecord, UrlIndexedStore } from '../entry/store.js'
import { InvalidOptionTypeError, StoreError, StoreTimeoutError, StoreUnavailableError } from '../errors.js'
import { errorReporter } from '../observe/report.js'
import { parseRedisOptions, REDIS_DEFAULTS, type RedisClientLike, type RedisOptions } from '../options/redis.js'
import {
  assertRedisInstalled,
  BINARY,
  classify,
  createOwnedClient,
  displayRedisUrl,
  reconnectDelay,
  replyCode,
  send,
} from './redis-client.js'
import { isReserved, SECRET_NAME, scriptArgs } from './redis-commands.js'
import { clearKeyspace, type Keyspace, keysStoredFor, recordsOf, sizeOf, unlink } from './redis-keys.js'

const debug = debuglog('fetch-http-cache')

/** Options of {@link RedisStore}: where to connect and how to keep entries, plus its error reporting. */
export interface RedisStoreOptions extends RedisOptions {
  /**
   * Called with the failures of the store's own background work (connecting, reading the shared
   * secret), once per kind (timeout, server unavailable, command refused) until the server answers
   * again. Failed `get`, `set`, `setAll` and `delete` calls reject instead, so their caller (the
   * cache's engine) counts and reports each one.
   * @default `process.emitWarning`
   */
  onError?: (error: Error) => void
  /**
   * The clock, in ms since the epoch, that entries' `expires` are measured on.
   * @default Date.now
   */
  now?: () => number
}

/** How often the secret is read again: a server restarted without persistence, or evicting, loses it. */
const SECRET_REFRESH = 60_000
/** How soon a failed read of the secret is tried again. */
const SECRET_RETRY = 1000

/**
 * A {@link Store} on a Redis server, shared by every process and machine that uses the same server
 * and prefix: requests-cache's Redis backend, on the official client (node-redis, an optional peer
 * dependency loaded when the first store is made).
 *
 * - One key per entry, `{prefix}{key}`, holding the same packed bytes as the memory store
 *   (codec.ts), written raw by one script call (redis-commands.ts) with an expiry of the entry's
 *   expiry plus `grace` (`PX`, relative, so clock skew between machines and the server does not
 *   matter). Entries without expiry get none: the server's `maxmemory` with an LRU policy bounds the cache.
 * - The same call adds the key to its URL's index set, `{prefix}url-index:{hash}`, which invalidation
 *   reads (`keysForUrl`) to find the URL's responses in every credential partition.
 * - The secret that hashes credentials into keys is shared: `SET {prefix}secret … NX`, then read,
 *   so every machine hashes a token to the same key. It is read again on every reconnection and
 *   every minute, and restored when the server lost it.
 * - Fail-open: every command settles within `commandTimeout`; on the request path (`get`, `set`,
 *   `setAll`, `delete`) a failure is a miss or a dropped write, reported once per kind until the
 *   server answers again. Inspection (`records`, `clear`, `size`, `keysForUrl`) throws a `StoreError` instead:
 *   there the caller asked for the store.
 * - Inspection walks the prefix with `SCAN` in batches and deletes with `UNLINK`; never `KEYS` or
 *   `FLUSHDB` (redis-keys.ts). Every command names one key, except the writes' script.
 * - A client passed in is never closed; one made from `url` is closed by `close()`.
 */
export class RedisStore implements Store, ReadyingStore, BatchingStore, SizedStore, UrlIndexedStore {
  readonly #prefix: string
  readonly #commandTimeout: number
  readonly #connectTimeout: number
  readonly #graceMs: number
  readonly #now: () => number
  readonly #onError: (error: Error) => void
  readonly #owned: boolean
  /** Whether this store may write the secret when the server has none (see the constructor). */
  readonly #createsSecret: boolean
  #client: RedisClientLike | undefined
  /** Provisional (random) until the shared one has been read from the server. */
  #secret = randomBytes(32).toString('hex')
  #shared = false
  /** Whether the client has been ready once. */
  #connectedOnce = false
  /** Why the client is not connected, when a connection attempt failed or timed out; cleared once ready. */
  #connectFailure: { cause: unknown; timeout?: number } | undefined
  /** Bounds the current connection attempt (see #connect). */
  #connectTimer: NodeJS.Timeout | undefined
  /** The server, as messages name it (no password). */
  readonly #server: string
  #closed = false
  #loadingSecret: Promise<void> | undefined
  #refreshTimer: NodeJS.Timeout | undefined
  /** The next reconnection attempt of a client this store made, when one is due. */
  #reconnectTimer: NodeJS.Timeout | undefined
  #reconnectAttempts = 0
  /** Callers of `ready()` waiting for the secret (or for the first connection attempt to fail). */
  readonly #waiters = new Set<() => void>()
  /** Failure kinds reported since the server last answered. */
  readonly #reported = new Set<string>()
  readonly #onReady = () => {
    clearTimeout(this.#connectTimer)
    this.#connectFailure = undefined
    this.#connectedOnce = true
    this.#reconnectAttempts = 0
    void this.#loadSecret()
  }
  /** A client this store made gave up its connection (see createOwnedClient): try again later. */
  readonly #onTerminated = () => {
    if (this.#closed || this.#reconnectTimer !== undefined) return
    this.#reconnectTimer = setTimeout(
      () => {
        this.#reconnectTimer = undefined
        this.#connect()
      },
      reconnectDelay(this.#reconnectAttempts++),
    )
    this.#reconnectTimer.unref()
  }
  readonly #onClientError = (error: unknown) => {
    if (this.#closed) return
    this.#connectFailed({ cause: error })
    if (!this.#connectedOnce) this.#wake() // the first attempt failed: nobody should wait for it
    // A client that gave up its connection without a 'terminated' event (older node-redis).
    if (this.#client?.isOpen === false) this.#onTerminated()
  }

  /**
   * `reader` (internal: the CLI's commands that only read or delete) never writes the secret: on a
   * prefix that holds no cache it reads none and writes nothing, rather than leave a key behind.
   */
  constructor(options: RedisStoreOptions = {}, { reader = false }: { reader?: boolean } = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
    const resolved = parseRedisOptions('', options, ['onError', 'now'])
    const { onError, now = Date.now } = options
    if (onError !== undefined && typeof onError !== 'function') throw new InvalidOptionTypeError('onError', onError, 'a function')
    if (typeof now !== 'function') throw new InvalidOptionTypeError('now', now, 'a function')
    this.#prefix = resolved.prefix
    this.#commandTimeout = resolved.commandTimeout
    this.#connectTimeout = resolved.connectTimeout
    this.#graceMs = resolved.graceMs
    this.#now = now
    this.#onError = errorReporter(() => onError)
    this.#owned = resolved.client === undefined
    this.#createsSecret = !reader
    this.#server = resolved.client ? 'the Redis client given' : displayRedisUrl(resolved.url ?? REDIS_DEFAULTS.url)
    if (resolved.client) {
      this.#attach(resolved.client)
    } else {
      assertRedisInstalled()
      void this.#openOwned(resolved.url ?? REDIS_DEFAULTS.url)
    }
  }

  /**
   * The secret shared through the server (`{prefix}secret`) once it has been read; a provisional
   * random one before that, while writes are dropped (see `ready()`).
   */
  get secret(): string {
    return this.#secret
  }

  /**
   * Resolves once the shared secret has been read, or once `connectTimeout` has passed or the first
   * connection attempt failed; never rejects. The store keeps trying in the background either way.
   */
  ready(): Promise<void> {
    if (this.#shared || this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, this.#connectTimeout)
      this.#waiters.add(done)
    })
  }

  /**
   * The entry under `key`, or `undefined` (missing, or unreadable and then deleted). Rejects with a
   * `StoreError` when the server cannot answer (not connected, timed out, refused).
   */
  async get(key: string): Promise<CacheEntry | undefined> {
    if (isReserved(key)) return undefined
    const client = this.#usable('reading an entry')
    let packed: unknown
    try {
      packed = await send(client, ['GET', this.#prefix + key], this.#commandTimeout, BINARY)
    } catch (error) {
      throw classify(error, 'reading an entry')
    }
    this.#answered()
    if (!(packed instanceof Uint8Array)) return undefined
    const entry = unpack(packed)
    if (entry === undefined) await this.delete([key])
    return entry
  }

  /**
   * Stores `entry` under `key` with its expiry plus the grace period; resolves once the server
   * confirmed it, rejects with a `StoreError` when it did not (nothing is stored then).
   */
  async set(key: string, entry: CacheEntry): Promise<void> {
    await this.setAll([{ key, entry }])
  }

  /** Stores several entries in one atomic call (a `Vary` marker and its variant); rejects as `set` does. */
  async setAll(entries: readonly KeyedEntry[]): Promise<void> {
    const client = this.#usable('writing an entry')
    // Until the shared secret is known, keys of credentialed requests are made with a provisional
    // one no other process uses: storing them would only leave orphans.
    if (!this.#shared) {
      throw new StoreUnavailableError(
        `fetch-http-cache: Redis at ${this.#server} has not given the shared secret yet (writing an entry): nothing is stored until it does`,
      )
    }
    const writes = entries.filter(({ key }) => !isReserved(key))
    if (writes.length === 0) return
    const expiry = { prefix: this.#prefix, graceMs: this.#graceMs, now: this.#now() }
    try {
      await send(client, scriptArgs(writes, expiry), this.#commandTimeout)
    } catch (error) {
      throw classify(error, 'writing an entry')
    }
    this.#answered()
  }

  /** Deletes the entries under `keys` (one `UNLINK` each, in parallel); rejects with a `StoreError` on failure. */
  async delete(keys: readonly string[]): Promise<void> {
    const client = this.#usable('deleting entries')
    const doomed = keys.filter((key) => !isReserved(key)).map((key) => this.#prefix + key)
    try {
      await unlink(this.#keyspace(client), doomed)
    } catch (error) {
      throw classify(error, 'deleting entries')
    }
    this.#answered()
  }

  /**
   * The keys of every entry stored for `url` (its `url` exactly), from the URL's index set written
   * with them. Rejects with a `StoreError` when the server cannot answer.
   */
  async keysForUrl(url: string): Promise<string[]> {
    const keys = await keysStoredFor(this.#keyspace(this.#usable('finding a URL')), url)
    this.#answered()
    return keys
  }

  /** Deletes every entry and URL index under the prefix (the secret stays); other keys on the server are left alone. */
  async clear(): Promise<void> {
    await clearKeyspace(this.#keyspace(await this.#inspecting('clearing')))
  }

  /** Every entry under the prefix, read in batches as `SCAN` finds them; each key once. */
  async *records(): AsyncGenerator<StoreRecord, void, undefined> {
    yield* recordsOf(this.#keyspace(await this.#inspecting('listing entries')))
  }

  /** The packed bytes of every entry under the prefix (`STRLEN`, without reading the values). */
  async size(): Promise<number> {
    return sizeOf(this.#keyspace(await this.#inspecting('reading the size')))
  }

  /** Stops the background work; closes the client only when this store made it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#refreshTimer)
    clearTimeout(this.#reconnectTimer)
    clearTimeout(this.#connectTimer)
    this.#wake()
    const client = this.#client
    if (!client) return
    client.off('ready', this.#onReady)
    if (!this.#owned) return
    // close() waits for replies still due: bounded, then the socket is torn down.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#commandTimeout)
    })
    try {
      await Promise.race([client.close().catch(() => {}), timeout])
    } finally {
      clearTimeout(timer)
      // The 'error' listener stays: an error emitted while tearing down must not crash the process.
      client.destroy()
    }
  }

  async #openOwned(url: string): Promise<void> {
    let client: RedisClientLike
    try {
      client = await createOwnedClient(url, this.#connectTimeout)
    } catch (error) {
      this.#report(error instanceof StoreError ? error : classify(error, 'loading the redis package'))
      this.#wake()
      return
    }
    if (this.#closed) return
    // Without an 'error' listener, node-redis's connection errors would crash the process.
    client.on('error', this.#onClientError)
    client.on('terminated', this.#onTerminated)
    this.#attach(client)
  }

  #attach(client: RedisClientLike): void {
    this.#client = client
    client.on('ready', this.#onReady)
    if (client.isReady) this.#onReady()
    else if (!client.isOpen) this.#connect()
    this.#refreshTimer = setInterval(() => void this.#loadSecret(), SECRET_REFRESH)
    this.#refreshTimer.unref()
  }

  /**
   * Connects the client. A failure is reported through 'error'; a client this store made then
   * emits 'terminated' and is tried again (#onTerminated), one passed in reconnects as its owner set it up.
   */
  #connect(): void {
    const client = this.#client
    if (!client || this.#closed || client.isOpen) return
    // node-redis's connectTimeout covers the TCP connection only: a server that accepts it and never
    // answers (stopped, overloaded, not Redis) would keep the client connecting, and every request
    // missing without a word. The whole attempt, handshake included, gets connectTimeout.
    clearTimeout(this.#connectTimer)
    this.#connectTimer = setTimeout(() => this.#connectTimedOut(client), this.#connectTimeout)
    this.#connectTimer.unref()
    client.connect().catch((error: unknown) => {
      if (this.#closed || this.#client !== client) return
      if (!this.#owned) this.#connectFailed({ cause: error })
      if (this.#owned) this.#onTerminated() // in case this client version does not emit 'terminated'
    })
  }

  /** The connection attempt took connectTimeout without the server answering: report it, and let requests go on. */
  #connectTimedOut(client: RedisClientLike): void {
    if (this.#closed || this.#client !== client || client.isReady) return
    this.#connectFailed({ cause: undefined, timeout: this.#connectTimeout })
    if (!this.#owned) return // its owner decides how it reconnects
    // Give up this attempt and start another later (#onTerminated).
    client.destroy()
    this.#onTerminated()
  }

  /** A connection attempt failed: requests fail at once with it until one succeeds; reported once per kind. */
  #connectFailed(failure: { cause: unknown; timeout?: number }): void {
    this.#connectFailure = failure
    this.#report(this.#unavailable('connecting'))
    this.#wake() // nobody should wait for an attempt that failed
  }

  /** Why a command cannot be sent now, naming the server and the cause: a timeout stays a `StoreTimeoutError`. */
  #unavailable(doing: string): StoreError {
    const where = `${doing} at ${this.#server}`
    const failure = this.#connectFailure
    if (failure?.timeout !== undefined) {
      return new StoreTimeoutError(
        `fetch-http-cache: Redis is unavailable (${where}): no answer within ${failure.timeout} ms of connecting (connectTimeout)`,
        failure.timeout,
      )
    }
    if (failure) return classify(failure.cause, where)
    const why = this.#connectedOnce ? 'the connection is down; reconnecting' : 'still connecting'
    return new StoreUnavailableError(`fetch-http-cache: Redis is unavailable (${where}): ${why}`)
  }

  /**
   * Reads the shared secret, writing ours first if the server has none (a fresh server, or one that
   * restarted without persistence): the first machine's random secret becomes everyone's.
   */
  #loadSecret(): Promise<void> {
    this.#loadingSecret ??= this.#readSecret().finally(() => {
      this.#loadingSecret = undefined
    })
    return this.#loadingSecret
  }

  async #readSecret(): Promise<void> {
    const client = this.#client
    if (!client || this.#closed || !client.isReady) return
    const key = this.#prefix + SECRET_NAME
    let stored: unknown
    try {
      if (this.#createsSecret) await send(client, ['SET', key, this.#secret, 'NX'], this.#commandTimeout)
      stored = await send(client, ['GET', key], this.#commandTimeout)
    } catch (error) {
      this.#failed(error, 'reading the shared secret')
      if (!this.#closed) setTimeout(() => void this.#loadSecret(), SECRET_RETRY).unref()
      return
    }
    if (typeof stored !== 'string' || stored === '') {
      // A reader on a prefix without a cache: nothing to wait for (its writes stay refused).
      if (!this.#createsSecret) this.#wake()
      return // else deleted between the two commands: next time
    }
    if (stored !== this.#secret) {
      if (this.#shared) debug('redis: the shared secret under %s changed; adopting it', key)
      this.#secret = stored
    }
    this.#shared = true
    this.#answered()
    this.#wake()
  }

  /** The client when it can take a command now; else throws why not, at once (a request never waits for a connection). */
  #usable(doing: string): RedisClientLike {
    if (this.#closed) throw new StoreError(`fetch-http-cache: the Redis store is closed (${doing})`)
    const client = this.#client
    if (client?.isReady) return client
    throw this.#unavailable(doing)
  }

  /** For inspection: the client once connected (waiting up to `connectTimeout` unless an attempt already failed), else a thrown error. */
  async #inspecting(doing: string): Promise<RedisClientLike> {
    if (!this.#closed && !this.#client?.isReady && this.#connectFailure === undefined) await this.ready()
    return this.#usable(doing)
  }

  #keyspace(client: RedisClientLike): Keyspace {
    return { client, prefix: this.#prefix, commandTimeout: this.#commandTimeout }
  }

  /** A failure of background work: reported once per kind until the server answers again. */
  #failed(error: unknown, doing: string): void {
    if (this.#closed) return
    this.#report(classify(error, doing))
  }

  #report(error: StoreError): void {
    const kind = `${error.code} ${replyCode(error.cause) ?? ''}`
    if (this.#reported.has(kind)) return
    this.#reported.add(kind)
    debug('redis: %s', error.message)
    this.#onError(error)
  }

  /** The server answered: the next failure of any kind is news again. */
  #answered(): void {
    if (this.#reported.size > 0) this.#reported.clear()
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }
}
