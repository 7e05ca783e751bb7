import { InvalidOptionTypeError, InvalidOptionValueError } from '../errors.js'
import { parseDuration } from './expire-after.js'

/**
 * The part of a node-redis client (`createClient()` from the `redis` package, v5 or v6) the Redis
 * store uses. Declared here so the package's types do not depend on `redis` being installed.
 */
export interface RedisClientLike {
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: RedisCommandOptions): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  readonly isOpen: boolean
  readonly isReady: boolean
}

/** The node-redis command options the store passes. */
export interface RedisCommandOptions {
  abortSignal?: AbortSignal
  typeMapping?: Record<number, unknown>
}

/** Where the Redis store connects and how it keeps entries: `backend: 'redis'` with `redis: { … }`. */
export interface RedisOptions {
  /**
   * The server, as a `redis://` or `rediss://` (TLS) URL, user, password and database number included
   * (`redis://user:pass@cache.internal:6379/2`), or a `unix:` socket URL. Ignored when `client` is given.
   * @default 'redis://localhost:6379'
   */
  url?: string
  /**
   * A node-redis client (`createClient()` from the `redis` package) to use instead of one made from
   * `url`. It is connected if it is not yet, and never closed by the cache: it stays the caller's.
   * Create it with `disableOfflineQueue: true` so that commands fail at once while it reconnects
   * (the store's own timeout bounds them either way).
   * @default undefined
   */
  client?: RedisClientLike
  /**
   * Prepended to every key the cache writes: entries are `{prefix}{key}`, the shared secret is
   * `{prefix}secret`. Caches with different prefixes share a server without seeing each other.
   * On Redis Cluster, a hash tag (`'{fetch-http-cache}:'`) keeps every key of the cache in one slot.
   * @default 'fetch-http-cache:'
   */
  prefix?: string
  /**
   * How long one command may take, in ms. Past it a lookup is a miss and a write is dropped: a slow
   * or unreachable server never holds a request up for longer.
   * @default 500
   */
  commandTimeout?: number
  /**
   * How long, in ms, to wait for the first connection (and the shared secret) before requests go on
   * without the cache; the store keeps reconnecting in the background.
   * @default 2000
   */
  connectTimeout?: number
  /**
   * How long an entry stays on the server past its expiry (seconds, or a duration such as `'1h'`,
   * `'7d'`), so that it can still be revalidated or served stale. Entries without expiry never expire
   * on the server; `maxmemory` with an LRU policy bounds them.
   * @default 86400 (1 day)
   */
  grace?: number | string
}

/** The Redis options with defaults filled in and durations in ms. */
export interface ResolvedRedisOptions {
  url: string | undefined
  client: RedisClientLike | undefined
  prefix: string
  commandTimeout: number
  connectTimeout: number
  graceMs: number
}

/** The defaults, in one place; the README mirrors them. */
export const REDIS_DEFAULTS = Object.freeze({
  url: 'redis://localhost:6379',
  prefix: 'fetch-http-cache:',
  commandTimeout: 500,
  connectTimeout: 2000,
  grace: 86_400,
})

const KNOWN: { [K in keyof RedisOptions]-?: true } = {
  url: true,
  client: true,
  prefix: true,
  commandTimeout: true,
  connectTimeout: true,
  grace: true,
}

/** Longest timeout accepted: Node's timers overflow past 2^31 - 1 ms. */
const MAX_TIMEOUT = 2_147_483_647

/**
 * Validates `value` (an options object, or a URL string as shorthand for `{ url }`) and fills in the
 * defaults. Errors name the option as `option.field` (`redis.commandTimeout`). `extra` lists other
 * fields the caller accepts and checks itself.
 */
export function parseRedisOptions(option: string, value: unknown, extra: readonly string[] = []): ResolvedRedisOptions {
  const given = typeof value === 'string' ? { url: value } : value
  if (given === undefined) return parseRedisOptions(option, {})
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new InvalidOptionTypeError(option, value, 'an object of Redis options or a redis:// URL')
  }
  const name = (field: string) => (option ? `${option}.${field}` : field)
  const fields = given as Record<string, unknown>
  for (const field of Object.keys(fields)) {
    if (!Object.hasOwn(KNOWN, field) && !extra.includes(field)) {
      throw new InvalidOptionValueError(name(field), fields[field], 'is not a Redis option')
    }
  }
  const { url, client, prefix = REDIS_DEFAULTS.prefix, grace = REDIS_DEFAULTS.grace } = fields
  if (url !== undefined) {
    if (typeof url !== 'string') throw new InvalidOptionTypeError(name('url'), url, 'a string')
    if (!/^(?:rediss?:\/\/[^/?#]|unix:)/i.test(url) || !URL.canParse(url)) {
      throw new InvalidOptionValueError(name('url'), url, 'must be a redis://, rediss:// or unix: URL')
    }
  }
  if (client !== undefined && !isClient(client)) {
    throw new InvalidOptionTypeError(name('client'), client, 'a node-redis client (createClient() from the redis package)')
  }
  if (client !== undefined && isClusterOrSentinel(client)) {
    // Their sendCommand takes routing arguments first, and SCAN must visit every node.
    throw new InvalidOptionValueError(
      name('client'),
      client,
      'must be a client from createClient(): cluster and sentinel clients are not supported',
    )
  }
  if (typeof prefix !== 'string') throw new InvalidOptionTypeError(name('prefix'), prefix, 'a string')
  if (prefix === '') throw new InvalidOptionValueError(name('prefix'), prefix, 'must not be empty (clear() deletes by prefix)')
  return {
    url: url as string | undefined,
    client: client as RedisClientLike | undefined,
    prefix,
    commandTimeout: timeout(name('commandTimeout'), fields.commandTimeout ?? REDIS_DEFAULTS.commandTimeout),
    connectTimeout: timeout(name('connectTimeout'), fields.connectTimeout ?? REDIS_DEFAULTS.connectTimeout),
    graceMs: graceMs(name('grace'), grace),
  }
}

function timeout(option: string, value: unknown): number {
  if (typeof value !== 'number') throw new InvalidOptionTypeError(option, value, 'a number of milliseconds')
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_TIMEOUT) {
    throw new InvalidOptionValueError(option, value, `must be an integer number of milliseconds from 1 to ${MAX_TIMEOUT}`)
  }
  return value
}

function graceMs(option: string, value: unknown): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new InvalidOptionValueError(option, value, 'must be a number of seconds >= 0')
    return Math.round(value * 1000)
  }
  if (typeof value === 'string') {
    const ms = parseDuration(value)
    if (ms === undefined) throw new InvalidOptionValueError(option, value, "must be a duration such as '1h' or '7d'")
    return ms
  }
  throw new InvalidOptionTypeError(option, value, 'a number of seconds or a duration string')
}

function isClient(value: unknown): value is RedisClientLike {
  if (value === null || typeof value !== 'object') return false
  const client = value as Record<string, unknown>
  return ['sendCommand', 'connect', 'close', 'destroy', 'on', 'off'].every((m) => typeof client[m] === 'function')
}

function isClusterOrSentinel(client: object): boolean {
  const methods = client as Record<string, unknown>
  return typeof methods.nodeClient === 'function' || typeof methods.getSentinelNode === 'function'
}
