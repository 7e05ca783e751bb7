import { MissingDependencyError, StoreError, StoreTimeoutError, StoreUnavailableError } from '../errors.js'
import type { RedisClientLike, RedisCommandOptions } from '../options/redis.js'

/**
 * The Redis store's side of node-redis: loading the optional package, making a client that fails
 * fast, sending one command under a timeout, and naming what went wrong.
 */

/** The package the Redis store needs (an optional peer dependency). */
const REDIS_PACKAGE = 'redis'

/** RESP's bulk string type (`$`): mapped to `Buffer` so entries are read back as raw bytes. */
const RESP_BLOB_STRING = 36
/** Command options that return bulk strings as Buffers. */
export const BINARY: RedisCommandOptions = Object.freeze({ typeMapping: Object.freeze({ [RESP_BLOB_STRING]: Buffer }) })
/** Commands a client may queue before they fail with "The queue is full" (a server that stopped answering). */
const QUEUE_LIMIT = 10_000
/** The longest wait between reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY = 1000

/** How long to wait before reconnection attempt `attempt` (0-based): a capped backoff, with jitter to spread a fleet. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY) + Math.floor(Math.random() * 100)
}

/**
 * Throws a {@link MissingDependencyError} when the `redis` package cannot be found. Synchronous, so
 * that asking for the Redis backend without it fails when the cache is created, not at a request.
 */
export function assertRedisInstalled(resolve: (specifier: string) => string = (s) => import.meta.resolve(s)): void {
  try {
    resolve(REDIS_PACKAGE)
  } catch (error) {
    throw new MissingDependencyError(REDIS_PACKAGE, "the Redis store (backend: 'redis')", { cause: error })
  }
}

interface RedisModule {
  createClient(options: object): RedisClientLike & { unref(): void }
}

/**
 * A client for `url` that never queues commands while disconnected (they fail at once: a lookup
 * is a miss, not a wait), bounds its queue, and does not keep the process alive: its socket is
 * unref'd, and it does not reconnect by itself (node-redis's reconnection timers would hold the
 * process open while the server is down); the store reconnects it on unref'd timers instead. The
 * package is imported here, on first use.
 */
export async function createOwnedClient(url: string, connectTimeout: number): Promise<RedisClientLike> {
  let redis: RedisModule
  try {
    redis = (await import(REDIS_PACKAGE)) as RedisModule
  } catch (error) {
    throw new MissingDependencyError(REDIS_PACKAGE, "the Redis store (backend: 'redis')", { cause: error })
  }
  const client = redis.createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: QUEUE_LIMIT,
    socket: { connectTimeout, reconnectStrategy: false },
  })
  client.unref()
  return client
}

/**
 * Sends one command and settles within `timeout` ms whatever the server does. node-redis's own
 * timeout only covers a command still waiting to be written; one already sent would wait for its
 * reply forever on a server that stopped answering. Aborting also takes an unsent command out of the
 * client's queue. The timer is ref'd on purpose: the client's socket is not (see createOwnedClient),
 * so it is what keeps the process alive while a request waits on Redis.
 */
export function send(
  client: RedisClientLike,
  args: ReadonlyArray<string | Buffer>,
  timeout: number,
  options?: RedisCommandOptions,
): Promise<unknown> {
  const controller = new AbortController()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort()
      reject(new StoreTimeoutError(`fetch-http-cache: Redis did not answer ${args[0]} within ${timeout} ms`, timeout))
    }, timeout)
    let sent: Promise<unknown>
    try {
      sent = client.sendCommand(args, { ...options, abortSignal: controller.signal })
    } catch (error) {
      sent = Promise.reject(error)
    }
    sent.then(
      (reply) => {
        clearTimeout(timer)
        resolve(reply)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/**
 * Reply errors that mean the server cannot be used as it is now: "not now" (loading after a restart,
 * failing over), and the credentials given not let in (every command would be refused alike). An
 * outage: told once, and no response claims `stored` meanwhile.
 */
const UNAVAILABLE_REPLIES = new Set([
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'READONLY',
  'NOAUTH',
  'WRONGPASS',
])

/**
 * The typed error for a failed command: {@link StoreTimeoutError} (ours), {@link StoreUnavailableError}
 * (no connection, full queue, server loading or failing over, credentials refused) or {@link StoreError}
 * (the server refused the command: out of memory, …).
 */
export function classify(error: unknown, doing: string): StoreError {
  if (error instanceof StoreError) return error
  const message = error instanceof Error ? error.message : String(error)
  const reply = replyCode(error)
  if (reply === undefined || UNAVAILABLE_REPLIES.has(reply)) {
    return new StoreUnavailableError(`fetch-http-cache: Redis is unavailable (${doing}): ${message}`, { cause: error })
  }
  return new StoreError(`fetch-http-cache: Redis refused ${doing}: ${message}`, { cause: error })
}

/** The code word of a Redis error reply (`OOM`, `NOAUTH`…), or `undefined` for a client-side error. */
export function replyCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined
  // node-redis's ErrorReply, matched by name: the package is optional and may be another copy.
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'ErrorReply') return /^[A-Z]+/.exec(error.message)?.[0] ?? 'ERR'
  }
  return undefined
}

/** A Redis URL fit to print: without its password. */
export function displayRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.href
  } catch {
    return url
  }
}
