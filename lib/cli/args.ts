import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { CacheDeleteOptions } from '../inspect/query.js'
import { olderThanCutoff } from '../inspect/query.js'
import { REDIS_DEFAULTS } from '../options/redis.js'
import { closestName } from '../options/suggest.js'
import { UsageError } from './errors.js'

/** The file the CLI works on when `--db` is not given (the default `cacheName`, in the working directory). */
const DEFAULT_DB = 'http_cache.sqlite'

export const USAGE = `Usage: fetch-http-cache <command> [options]

Inspect and maintain a fetch-http-cache cache: a SQLite cache file (--db), a files directory (--dir),
or the entries under a prefix on a Redis server (--redis).

Commands:
  stats                      Count the responses (fresh, expired, unreadable) and URLs; show the
                             stored size, the oldest and newest entry and, for a file, its size on disk
  urls                       List the stored request URLs, one per line, sorted
  delete --expired           Delete expired responses
  delete --older-than AGE    Delete responses stored more than AGE ago (seconds, or 90s, 12h, 1h30m, 7d)
  delete --url URL           Delete every response stored for URL (repeatable)
  delete --url-pattern P     Delete the responses whose URL matches P, * matching anything (repeatable)
  delete --tag TAG           Delete the responses tagged TAG by Cache-Tag or Surrogate-Key (repeatable)
  delete --invalid           Delete entries that cannot be read
  clear                      Delete every entry (the whole file or directory, or everything under the Redis prefix)
  export --har FILE          Write every stored response to FILE as HAR 1.2
  import --har FILE          Store the responses of the HAR 1.2 file FILE (a browser's devtools export);
                             creates the cache when there is none
  help                       Show this help

Options:
  --db PATH    The cache file (default: ./${DEFAULT_DB}); it must exist
  --dir PATH   Work on a files cache (backend: 'files') instead: the directory
  --redis URL  Work on a Redis cache instead (redis://[:password@]host:port/db), under --prefix
  --prefix P   The Redis key prefix (default: ${REDIS_DEFAULTS.prefix})
  --json       Print JSON, for scripts; errors too, on stdout: {"error": {"code", "message"}}
  -y, --yes    Let a delete remove every entry without asking
  -h, --help   Show this help
  --version    Print the version

Delete options combine: "delete --expired --invalid" deletes both kinds. A delete that would
remove every entry asks first on a terminal; elsewhere it needs --yes ("clear" never asks).
Exit status: 0 done, 1 failed (no such file, not a cache file, Redis unreachable, store error,
declined), 2 usage error (including a delete of every entry without --yes when there is no terminal).
`

interface Common {
  /** Absolute path of the cache file. */
  db: string
  json: boolean
  /** A files cache (its absolute path) instead of the file. */
  dir?: string
  /** A Redis cache instead of the file. */
  redis?: { url: string; prefix: string }
}

/** What the command line asks for. */
export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | ({ kind: 'stats' } & Common)
  | ({ kind: 'urls' } & Common)
  | ({ kind: 'delete'; what: CacheDeleteOptions; yes: boolean } & Common)
  | ({ kind: 'clear' } & Common)
  | ({ kind: 'export' | 'import' /** Absolute path of the HAR file. */; har: string } & Common)

const COMMANDS = ['stats', 'urls', 'delete', 'clear', 'export', 'import', 'help'] as const

/** Every option; `value` names what a string option takes, for messages. */
const OPTIONS = {
  db: { type: 'string', value: 'a path' },
  dir: { type: 'string', value: 'a directory' },
  har: { type: 'string', value: 'a HAR file' },
  redis: { type: 'string', value: 'a redis:// URL' },
  prefix: { type: 'string', value: 'a key prefix' },
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  expired: { type: 'boolean' },
  invalid: { type: 'boolean' },
  'older-than': { type: 'string', value: 'an age' },
  url: { type: 'string', value: 'a URL', multiple: true },
  'url-pattern': { type: 'string', value: 'a URL pattern', multiple: true },
  tag: { type: 'string', value: 'a tag', multiple: true },
} as const
type OptionName = keyof typeof OPTIONS
const DELETE_ONLY: readonly OptionName[] = ['expired', 'older-than', 'url', 'url-pattern', 'tag', 'invalid', 'yes']

interface Values {
  db?: string
  dir?: string
  har?: string
  redis?: string
  prefix?: string
  json?: true
  yes?: true
  help?: true
  version?: true
  expired?: true
  invalid?: true
  'older-than'?: string
  url?: string[]
  'url-pattern'?: string[]
  tag?: string[]
}

/** Whether the command line asks for JSON, read even from one that cannot be parsed (for its error). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

/** Reads the command line (without `node` and the script); throws a `UsageError` for what it cannot run. */
export function parseCommandLine(argv: readonly string[], cwd: string): Command {
  const { values, positionals } = readOptions(argv)
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }
  const [name, ...extra] = positionals
  if (name === undefined) throw new UsageError('missing command')
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown command "${name}"${suggest(name, COMMANDS)}`)
  }
  const kind = name as (typeof COMMANDS)[number]
  if (kind === 'help') {
    if (extra[0] !== undefined && !(COMMANDS as readonly string[]).includes(extra[0])) {
      throw new UsageError(`unknown command "${extra[0]}"${suggest(extra[0], COMMANDS)}`)
    }
    return { kind: 'help' }
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`)
  const targets = (['db', 'dir', 'redis'] as const).filter((name) => values[name] !== undefined)
  if (targets.length > 1) throw new UsageError(`--${targets[0]} and --${targets[1]} cannot be combined`)
  if (values.prefix !== undefined && values.redis === undefined) throw new UsageError('--prefix is an option of --redis')
  if (values.redis !== undefined && !/^(?:rediss?:\/\/[^/?#]|unix:)/i.test(values.redis)) {
    throw new UsageError(`--redis takes a redis:// URL, got "${values.redis}"`)
  }
  const common: Common = { db: resolve(cwd, values.db ?? DEFAULT_DB), json: values.json === true }
  if (values.redis !== undefined) common.redis = { url: values.redis, prefix: values.prefix ?? REDIS_DEFAULTS.prefix }
  if (values.dir !== undefined) common.dir = resolve(cwd, values.dir)
  if (kind !== 'export' && kind !== 'import' && values.har !== undefined) {
    throw new UsageError(`--har is an option of "export" and "import", not of "${kind}"`)
  }
  if (kind !== 'delete') {
    const stray = DELETE_ONLY.find((option) => values[option] !== undefined)
    if (stray) throw new UsageError(`--${stray} is an option of "delete", not of "${kind}"`)
  }
  if (kind === 'export' || kind === 'import') {
    if (values.har === undefined) throw new UsageError(`${kind} needs --har FILE`)
    return { kind, ...common, har: resolve(cwd, values.har) }
  }
  if (kind !== 'delete') return { kind, ...common }
  return { kind, ...common, what: deleteOptions(values), yes: values.yes === true }
}

/**
 * `parseArgs` in its lenient mode, so every message is ours: its strict mode throws texts meant for
 * programmers ("argument is ambiguous", advice about `--`) and refuses `--older-than -5` before we
 * can say what is wrong with it.
 */
function readOptions(argv: readonly string[]): { values: Values; positionals: string[] } {
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false, tokens: true })
  const values: Record<string, unknown> = {}
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value)
    if (token.kind !== 'option') continue
    const { name, rawName, value, inlineValue } = token
    if (!Object.hasOwn(OPTIONS, name)) {
      const long = rawName.startsWith('--') ? name : rawName.slice(1)
      throw new UsageError(`unknown option "${rawName}"${suggest(long, Object.keys(OPTIONS), '--')}`)
    }
    const option: { type: 'boolean' | 'string'; value?: string; multiple?: boolean } = OPTIONS[name as OptionName]
    if (option.type === 'boolean') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value, got "${rawName}=${value}"`)
      values[name] = true
      continue
    }
    // A next argument that is itself an option ("--db --json") means the value was left out.
    if (value === undefined || value === '' || (!inlineValue && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs ${option.value}`)
    }
    values[name] = option.multiple ? [...((values[name] as string[] | undefined) ?? []), value] : value
  }
  return { values: values as Values, positionals }
}

function deleteOptions(values: Values): CacheDeleteOptions {
  const what: CacheDeleteOptions = {}
  if (values.expired) what.expired = true
  if (values.invalid) what.invalid = true
  const age = values['older-than']
  if (age !== undefined) {
    if (age.startsWith('-')) {
      throw new UsageError(`--older-than takes an age (how long ago), which cannot be negative, got "${age}"`)
    }
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
  if (values['url-pattern'] !== undefined) what.urlPatterns = values['url-pattern']
  if (values.tag !== undefined) what.tags = values.tag
  if (Object.keys(what).length === 0) {
    throw new UsageError('delete needs --expired, --older-than AGE, --url URL, --url-pattern P, --tag TAG or --invalid')
  }
  return what
}

/** `' (did you mean "--json"?)'`, or `''`. */
function suggest(input: string, names: readonly string[], prefix = ''): string {
  const name = closestName(input, names)
  return name === undefined ? '' : ` (did you mean "${prefix}${name}"?)`
}
