import { Engine } from '../engine/engine.js'
import { isFetchCacheError, StoreUnavailableError } from '../errors.js'
import { LiveSettings } from '../options/live.js'
import { RedisStore } from '../stores/redis.js'
import { displayRedisUrl } from '../stores/redis-client.js'
import { StoreFailure } from './errors.js'

/** A Redis cache the CLI works on, and what it needs to say what went wrong there. */
export interface RedisTarget {
  engine: Engine
  /** The server's URL, fit to print (no password). */
  server: string
  /**
   * The error a command threw, said with the server's URL and the cause: the store's own "not
   * connected" says nothing of why, while the connection attempt that failed does (`connect
   * ECONNREFUSED 127.0.0.1:6379`). Errors that are not fetch-http-cache's are returned as they are.
   */
  explain(error: unknown): unknown
}

/**
 * Opens a Redis cache for inspection, once connected (or given up: the first command then fails with
 * a `StoreUnavailableError`). Inspection throws its failures; a write that fails (an import) is
 * dropped by the store and reaches `onError`. The last failure reported is kept: the command that
 * fails says it, once.
 */
export async function openRedisCache(
  url: string,
  prefix: string,
  onError: (error: Error) => void,
  create: boolean,
): Promise<RedisTarget> {
  let connecting: Error | undefined
  const report = (error: Error) => {
    connecting = error
    onError(error)
  }
  // A command has no request to keep fast: it may wait longer than a cache would for the shared secret.
  // Only an import creates a cache: the other commands never write the secret to a prefix without one.
  const store = new RedisStore({ url, prefix, onError: report, connectTimeout: 10_000 }, { reader: !create })
  await store.ready()
  const server = displayRedisUrl(url)
  return {
    engine: new Engine(store, new LiveSettings({ onError: report })),
    server,
    explain: (error) => (isFetchCacheError(error) ? withServer(error, server, connecting) : error),
  }
}

/** The store's error as a {@link StoreFailure}: its message names the server and, when it has none, the cause. */
function withServer(
  error: Error & { code: ConstructorParameters<typeof StoreFailure>[0] },
  server: string,
  connecting: Error | undefined,
): StoreFailure {
  // The store names its server too (`listing entries at redis://…`): said once, up front.
  const said = error.message.replace(/^fetch-http-cache: /, '').replace(/ at rediss?:\/\/[^)\s]*/, '')
  let message = said.startsWith('Redis ') ? `Redis at ${server} ${said.slice('Redis '.length)}` : `${said} (Redis at ${server})`
  if (error instanceof StoreUnavailableError && error.cause === undefined && connecting !== undefined) {
    message += `; connecting failed: ${causeOf(connecting)}`
  }
  return new StoreFailure(error.code, message, error)
}

/** What the network said (`connect ECONNREFUSED 127.0.0.1:6379`), under the store's wrapping. */
function causeOf(reported: Error): string {
  const raw = reported.cause instanceof Error ? reported.cause : reported
  if (raw instanceof AggregateError && raw.errors.length > 0) {
    return raw.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join(', ')
  }
  return raw.message || String((raw as NodeJS.ErrnoException).code ?? raw.name)
}
