import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CacheDeleteOptions } from '../inspect/query.js'
import { olderThanCutoff } from '../inspect/query.js'
import { REDIS_DEFAULTS } from '../options/redis.js'

/** The file the CLI works on when `--db` is not given (the default `cacheName`, in the working directory). */
export const DEFAULT_DB = 'http_cache.sqlite'

export const USAGE = `Usage: fetch-cache <command> [options]

Inspect and maintain a fetch-cache SQLite cache file.

Commands:
  stats                      Count the responses (fresh, expired, unreadable), URLs and bytes
  urls                       List the stored request URLs, one per line, sorted
  delete --expired           Delete expired responses
  delete --older-than AGE    Delete responses stored more than AGE ago (seconds, or 90s, 12h, 1h30m, 7d)
  delete --url URL           Delete every response stored for URL (repeatable)
  delete --invalid           Delete rows that cannot be read
  clear                      Delete everything in the file

Options:
  --db PATH    The cache file (default: ./${DEFAULT_DB}); it must exist
  --redis URL  Work on a Redis cache instead (redis://host:port/db), under --prefix
  --prefix P   The Redis key prefix (default: ${REDIS_DEFAULTS.prefix})
  --json       Print JSON, for scripts
  -h, --help   Show this help

Delete options combine: "delete --expired --invalid" deletes both kinds.
Exit status: 0 done, 1 failed (no such file, not a cache file, store error), 2 usage error.
`

/** A command line the CLI cannot run; exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

interface Common {
  /** Absolute path of the cache file. */
  db: string
  /** A Redis cache to work on instead of the file. */
  redis?: { url: string; prefix: string }
  json: boolean
}

/** What the command line asks for. */
export type Command =
  | { kind: 'help' }
  | ({ kind: 'stats' } & Common)
  | ({ kind: 'urls' } & Common)
  | ({ kind: 'delete'; what: CacheDeleteOptions } & Common)
  | ({ kind: 'clear' } & Common)

const COMMANDS = ['stats', 'urls', 'delete', 'clear'] as const
const DELETE_FLAGS = ['expired', 'older-than', 'url', 'invalid'] as const

/** Reads the command line (without `node` and the script); throws a `UsageError` for what it cannot run. */
export function parseCommandLine(argv: readonly string[], cwd: string): Command {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
  const { values, positionals } = parsed
  if (values.help) return { kind: 'help' }
  const [name, ...extra] = positionals
  if (name === undefined) throw new UsageError('missing command')
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`unknown command "${name}"`)
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`)
  if (values.db === '') throw new UsageError('--db needs a path')
  if (values.redis !== undefined && values.db !== undefined) throw new UsageError('--db and --redis cannot be combined')
  if (values.prefix !== undefined && values.redis === undefined) throw new UsageError('--prefix is an option of --redis')
  if (values.redis !== undefined && !/^(?:rediss?:\/\/[^/?#]|unix:)/i.test(values.redis)) {
    throw new UsageError(`--redis takes a redis:// URL, got "${values.redis}"`)
  }
  const common: Common = { db: resolve(cwd, values.db ?? DEFAULT_DB), json: values.json === true }
  if (values.redis !== undefined) common.redis = { url: values.redis, prefix: values.prefix ?? REDIS_DEFAULTS.prefix }
  const kind = name as (typeof COMMANDS)[number]
  if (kind !== 'delete') {
    const stray = DELETE_FLAGS.find((flag) => values[flag] !== undefined)
    if (stray) throw new UsageError(`--${stray} is an option of "delete", not of "${kind}"`)
    return { kind, ...common }
  }
  return { kind, ...common, what: deleteOptions(values) }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: 'string' },
      redis: { type: 'string' },
      prefix: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      expired: { type: 'boolean' },
      invalid: { type: 'boolean' },
      'older-than': { type: 'string' },
      url: { type: 'string', multiple: true },
    },
  })
}

function deleteOptions(values: ReturnType<typeof parse>['values']): CacheDeleteOptions {
  const what: CacheDeleteOptions = {}
  if (values.expired) what.expired = true
  if (values.invalid) what.invalid = true
  const age = values['older-than']
  if (age !== undefined) {
    const olderThan = /^\d+(?:\.\d+)?$/.test(age) ? Number(age) : age
    try {
      olderThanCutoff('--older-than', olderThan, Date.now())
    } catch {
      throw new UsageError(`--older-than takes an age such as 3600, 90s, 12h, 1h30m or 7d, got "${age}"`)
    }
    what.olderThan = olderThan
  }
  if (values.url !== undefined) {
    for (const url of values.url) if (!URL.canParse(url)) throw new UsageError(`--url takes an absolute URL, got "${url}"`)
    what.urls = values.url
  }
  if (Object.keys(what).length === 0) throw new UsageError('delete needs --expired, --older-than AGE, --url URL or --invalid')
  return what
}
