import { isFetchCacheError } from '../errors.js'
import type { Cache } from '../inspect/cache.js'
import { type Command, parseCommandLine, USAGE, UsageError } from './args.js'
import { CacheFileError, displayRedisUrl, openCacheFile, openRedisCache } from './open.js'

/** Where the CLI writes, and where it runs: injected so it can be driven without a process. */
export interface CliContext {
  stdout(text: string): void
  stderr(text: string): void
  cwd: string
}

/** Exit statuses: done, failed at run time, command line not understood. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2 })

/** Runs `fetch-cache` with `argv` (without `node` and the script); resolves to the exit status. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let command: Command
  try {
    command = parseCommandLine(argv, context.cwd)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    context.stderr(`fetch-cache: ${error.message}\nRun "fetch-cache --help" for usage.\n`)
    return EXIT.usage
  }
  if (command.kind === 'help') {
    context.stdout(USAGE)
    return EXIT.ok
  }
  let cache: Cache | undefined
  try {
    cache = command.redis ? await openRedisCache(command.redis.url, command.redis.prefix) : openCacheFile(command.db)
    const output = await execute(command, cache)
    context.stdout(command.json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text)
    return EXIT.ok
  } catch (error) {
    if (!(error instanceof CacheFileError) && !isFetchCacheError(error)) throw error
    context.stderr(`fetch-cache: ${error.message.replace(/^fetch-cache: /, '')}\n`)
    return EXIT.failure
  } finally {
    await cache?.close()
  }
}

interface Output {
  text: string
  json: unknown
}

async function execute(command: Exclude<Command, { kind: 'help' }>, cache: Cache): Promise<Output> {
  switch (command.kind) {
    case 'stats':
      return stats(command.redis ? `${displayRedisUrl(command.redis.url)} ${command.redis.prefix}*` : command.db, cache)
    case 'urls': {
      const urls = await cache.urls()
      return { text: urls.map((url) => `${url}\n`).join(''), json: urls }
    }
    case 'delete': {
      const deleted = await cache.delete(command.what)
      return { text: `Deleted ${plural(deleted, 'entry', 'entries')}.\n`, json: { deleted } }
    }
    case 'clear': {
      let deleted = 0
      for await (const _ of cache.filter({ invalid: true })) deleted++
      await cache.clear()
      return { text: `Cleared the cache: deleted ${plural(deleted, 'entry', 'entries')}.\n`, json: { deleted } }
    }
    default:
      return command satisfies never
  }
}

async function stats(file: string, cache: Cache): Promise<Output> {
  let fresh = 0
  let expired = 0
  let invalid = 0
  let bodyBytes = 0
  let oldest: Date | undefined
  let newest: Date | undefined
  const urls = new Set<string>()
  for await (const item of cache.filter({ invalid: true })) {
    if (item.invalid) {
      invalid++
      continue
    }
    if (item.isExpired) expired++
    else fresh++
    bodyBytes += item.size
    urls.add(item.url)
    if (oldest === undefined || item.createdAt < oldest) oldest = item.createdAt
    if (newest === undefined || item.createdAt > newest) newest = item.createdAt
  }
  const size = await cache.size()
  const json = {
    file,
    responses: fresh + expired,
    fresh,
    expired,
    invalid,
    urls: urls.size,
    size,
    bodyBytes,
    oldest: oldest?.toISOString() ?? null,
    newest: newest?.toISOString() ?? null,
  }
  const rows: [string, string][] = [
    ['File', file],
    ['Responses', `${fresh + expired} (${fresh} fresh, ${expired} expired)`],
    ['Unreadable', `${invalid}${invalid ? ' (remove with: fetch-cache delete --invalid)' : ''}`],
    ['URLs', String(urls.size)],
    ['Size', `${humanBytes(size)} (${size} bytes; bodies ${bodyBytes} bytes)`],
    ['Oldest', json.oldest ?? '-'],
    ['Newest', json.newest ?? '-'],
  ]
  return { text: rows.map(([label, value]) => `${label.padEnd(11)} ${value}\n`).join(''), json }
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`
}

/** `46312` → `45.2 KiB`. */
function humanBytes(count: number): string {
  if (count < 1024) return `${count} B`
  let value = count
  let unit = 'B'
  for (const next of ['KiB', 'MiB', 'GiB', 'TiB']) {
    if (value < 1024) break
    value /= 1024
    unit = next
  }
  return `${value.toFixed(1)} ${unit}`
}
