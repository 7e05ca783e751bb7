import { lstatSync, readFileSync, realpathSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs'
import type { Engine } from '../engine/engine.js'
import { isFetchCacheError } from '../errors.js'
import { Cache } from '../inspect/cache.js'
import { exportHar, HarFormatError, type HarLog, harEntries, importHar } from '../inspect/har.js'
import { type CacheDeleteOptions, deleteMatches, olderThanCutoff, parseDelete } from '../inspect/query.js'
import { type Command, parseCommandLine, USAGE, wantsJson } from './args.js'
import { CliError, EXIT, UsageError } from './errors.js'
import { openCacheDirectory, openCacheFile } from './open.js'
import { openRedisCache } from './redis.js'
import { diskUsage, type Output, type StatsTarget, stats } from './stats.js'
import { packageManifest, packageVersion } from './version.js'

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
    else if (error instanceof HarFormatError) code = 'BAD_HAR'
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
  const { redis, dir } = command
  // A HAR that cannot be imported is refused before the cache is opened, which an import may create.
  const har = command.kind === 'import' ? readHar(command.har) : undefined
  if (command.kind === 'import') harEntries(har)
  // Store failures during an import reach onError (the engine stores as it would for a request): kept, then thrown.
  const failures: Error[] = []
  const onError = (error: Error) => failures.push(error)
  const create = command.kind === 'import'
  let target: StatsTarget
  let engine: Engine
  let explain = (error: unknown) => error
  if (redis) {
    const opened = await openRedisCache(redis.url, redis.prefix, onError, create)
    target = { kind: 'redis', server: opened.server, prefix: redis.prefix }
    engine = opened.engine
    explain = opened.explain
  } else if (dir) {
    target = { kind: 'directory', path: dir }
    engine = openCacheDirectory(dir, onError, create)
  } else {
    // Measured before opening: see diskUsage(). An import may create the file.
    target = { kind: 'file', path: command.db, disk: diskUsage(command.db) }
    engine = openCacheFile(command.db, onError, create)
  }
  const cache = new Cache(engine, true)
  const where = target.kind === 'redis' ? `${target.server} ${target.prefix}*` : target.path
  try {
    const output = await run(command, engine, cache, target, where, failures, context, har)
    context.stdout(command.json ? `${JSON.stringify(output.json, null, 2)}\n` : output.text)
    return EXIT.ok
  } catch (error) {
    throw explain(error)
  } finally {
    await cache.close()
  }
}

/** Runs a command on an opened cache; `where` names the cache in questions and messages. */
async function run(
  command: Exclude<Command, { kind: 'help' | 'version' }>,
  engine: Engine,
  cache: Cache,
  target: StatsTarget,
  where: string,
  failures: readonly Error[],
  context: CliContext,
  har: unknown,
): Promise<Output> {
  switch (command.kind) {
    case 'stats':
      return stats(target, cache, Date.now())
    case 'urls': {
      const urls = await cache.urls()
      return { text: urls.map((url) => `${url}\n`).join(''), json: urls }
    }
    case 'delete': {
      const what = fixCutoff(command.what)
      if (!command.yes) await confirmDeletingAll(cache, what, where, context)
      const deleted = await cache.delete(what)
      // The store deletes behind the call: only a flush says whether it was committed or given up.
      await cache.flush()
      throwFirst(failures)
      return { text: `Deleted ${entries(deleted)}.\n`, json: { deleted } }
    }
    case 'clear': {
      let deleted = 0
      for await (const _ of cache.filter({ invalid: true })) deleted++
      await cache.clear()
      return { text: `Cleared the cache: deleted ${entries(deleted)}.\n`, json: { deleted } }
    }
    case 'export': {
      const har = await exportHar(cache, packageManifest().version)
      writeHar(command.har, har)
      const count = har.log.entries.length
      return { text: `Exported ${responses(count)} to ${command.har}.\n`, json: { exported: count, file: command.har } }
    }
    case 'import': {
      const result = await importHar(engine, har)
      await cache.flush()
      throwFirst(failures)
      const skipped = result.skipped.map(({ url, reason }) => `  skipped ${url}: ${reason}\n`).join('')
      return {
        text: `Imported ${responses(result.imported)} from ${command.har}.\n${skipped}`,
        json: { imported: result.imported, skipped: result.skipped },
      }
    }
    default:
      return command satisfies never
  }
}

/** A store failure reported to `onError` during the command (a write given up) fails the command. */
function throwFirst(failures: readonly Error[]): void {
  const [failure] = failures
  if (failure) throw failure
}

/** `--older-than` as a `Date`, so the check for "every entry" and the delete use one cutoff. */
function fixCutoff(what: CacheDeleteOptions): CacheDeleteOptions {
  if (what.olderThan === undefined) return what
  return { ...what, olderThan: new Date(olderThanCutoff('--older-than', what.olderThan, Date.now())) }
}

/**
 * A delete that would leave the cache empty (`--older-than 1s` is easy to type) asks first on a
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

/** The HAR file's JSON; a file that cannot be read or parsed is a `BAD_HAR` error. */
function readHar(path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CliError('BAD_HAR', `cannot read ${path}: ${(error as Error).message}`, EXIT.failure)
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CliError('BAD_HAR', `${path} is not JSON: ${(error as Error).message}`, EXIT.failure)
  }
}

/**
 * Writes the HAR where PATH leads. A regular file (or none) is written through a temp file and a
 * rename, so an interrupted export never leaves half a file; a symlink is followed, so the rename
 * replaces its target and the link stays. Anything else (a FIFO, a character device such as
 * /dev/stdout) is written to directly: a rename would replace it with a file.
 */
function writeHar(path: string, har: HarLog): void {
  const text = `${JSON.stringify(har, null, 2)}\n`
  let temp: string | undefined
  try {
    const target = statOrNull(path)
    // A dangling symlink is written through (creating its target); a missing path gets the temp file.
    if (target === null ? lstatOrNull(path)?.isSymbolicLink() : !target.isFile()) {
      writeFileSync(path, text)
      return
    }
    const real = target === null ? path : realpathSync(path)
    temp = `${real}.${process.pid}.tmp`
    writeFileSync(temp, text, { mode: target === null ? 0o666 : target.mode & 0o7777 })
    renameSync(temp, real)
  } catch (error) {
    if (temp !== undefined) rmSync(temp, { force: true })
    throw new CliError('CANNOT_OPEN', `cannot write ${path}: ${(error as Error).message}`, EXIT.failure)
  }
}

function statOrNull(path: string): Stats | null {
  return statSync(path, { throwIfNoEntry: false }) ?? null
}

function lstatOrNull(path: string): Stats | null {
  return lstatSync(path, { throwIfNoEntry: false }) ?? null
}

function responses(count: number): string {
  return `${count} ${count === 1 ? 'response' : 'responses'}`
}

function entries(count: number): string {
  return `${count} ${count === 1 ? 'entry' : 'entries'}`
}
