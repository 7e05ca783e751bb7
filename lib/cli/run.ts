import { isFetchCacheError } from '../errors.js'
import type { Cache } from '../inspect/cache.js'
import { type CacheDeleteOptions, deleteMatches, olderThanCutoff, parseDelete } from '../inspect/query.js'
import { displayRedisUrl } from '../stores/redis-client.js'
import { type Command, parseCommandLine, USAGE, wantsJson } from './args.js'
import { CliError, EXIT, UsageError } from './errors.js'
import { openCacheFile, openRedisCache } from './open.js'
import { diskUsage, type Output, stats } from './stats.js'
import { packageVersion } from './version.js'

/** Where the CLI writes, and where it runs: injected so it can be driven without a process. */
export interface CliContext {
  stdout(text: string): void
  stderr(text: string): void
  cwd: string
  /** Asks a yes/no question; absent when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>
}

/**
 * Runs `fetch-http-cache` with `argv` (without `node` and the script); resolves to the exit status.
 * Errors are one line on stderr, or with `--json` one `{"error": {"code", "message"}}` object on
 * stdout, where a script reading the output finds it.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const json = wantsJson(argv)
  try {
    return await execute(parseCommandLine(argv, context.cwd), context)
  } catch (error) {
    let code: string
    if (error instanceof CliError) code = error.code
    else if (isFetchCacheError(error)) code = error.code
    else throw error
    const message = error.message.replace(/^fetch-http-cache: /, '')
    if (json) context.stdout(`${JSON.stringify({ error: { code, message } })}\n`)
    else {
      const hint = error instanceof UsageError && code === 'USAGE' ? '\nRun "fetch-http-cache --help" for usage.' : ''
      context.stderr(`fetch-http-cache: ${message}${hint}\n`)
    }
    return error instanceof CliError ? error.exitStatus : EXIT.failure
  }
}

async function execute(command: Command, context: CliContext): Promise<number> {
  if (command.kind === 'help') {
    context.stdout(USAGE)
    return EXIT.ok
  }
  if (command.kind === 'version') {
    context.stdout(`${packageVersion()}\n`)
    return EXIT.ok
  }
  const redis = command.redis
  const disk = redis ? undefined : diskUsage(command.db) // before opening: see diskUsage()
  const cache = redis ? await openRedisCache(redis.url, redis.prefix) : openCacheFile(command.db)
  const where = redis ? `${displayRedisUrl(redis.url)} ${redis.prefix}*` : command.db
  try {
    let output: Output
    switch (command.kind) {
      case 'stats':
        output = await stats(where, cache, disk, Date.now())
        break
      case 'urls': {
        const urls = await cache.urls()
        output = { text: urls.map((url) => `${url}\n`).join(''), json: urls }
        break
      }
      case 'delete': {
        const what = fixCutoff(command.what)
        if (!command.yes) await confirmDeletingAll(cache, what, where, context)
        const deleted = await cache.delete(what)
        output = { text: `Deleted ${entries(deleted)}.\n`, json: { deleted } }
        break
      }
      case 'clear': {
        let deleted = 0
        for await (const _ of cache.filter({ invalid: true })) deleted++
        await cache.clear()
        output = { text: `Cleared the cache: deleted ${entries(deleted)}.\n`, json: { deleted } }
        break
      }
      default:
        return command satisfies never
    }
    context.stdout(command.json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text)
    return EXIT.ok
  } finally {
    await cache.close()
  }
}

/** `--older-than` as a `Date`, so the check for "every entry" and the delete use one cutoff. */
function fixCutoff(what: CacheDeleteOptions): CacheDeleteOptions {
  if (what.olderThan === undefined) return what
  return { ...what, olderThan: new Date(olderThanCutoff('--older-than', what.olderThan, Date.now())) }
}

/**
 * A delete that would leave the file empty (`--older-than 1s` is easy to type) asks first on a
 * terminal, and without one needs `--yes`. Rows are matched with the predicate `cache.delete()` uses;
 * the CLI's cache has no `ignoredParameters`, so URLs compare with none ignored.
 */
async function confirmDeletingAll(cache: Cache, what: CacheDeleteOptions, file: string, context: CliContext): Promise<void> {
  const now = Date.now()
  const ignored: ReadonlySet<string> = new Set()
  const parsed = parseDelete(what, now, ignored)
  let total = 0
  let matched = 0
  for await (const item of cache.filter({ invalid: true })) {
    total++
    if (item.invalid ? parsed.invalid : deleteMatches(parsed, item.key, item.entry, now, ignored)) matched++
  }
  if (total === 0 || matched < total) return
  const all = total === 1 ? 'the only entry' : `all ${total} entries`
  if (context.confirm === undefined) {
    throw new UsageError(`this delete would remove ${all} in ${file}; add --yes to confirm`, 'CONFIRMATION_REQUIRED')
  }
  if (!(await context.confirm(`This deletes ${all} in ${file}. Delete? [y/N] `))) {
    throw new CliError('NOT_CONFIRMED', 'nothing deleted', EXIT.failure)
  }
}

function entries(count: number): string {
  return `${count} ${count === 1 ? 'entry' : 'entries'}`
}
