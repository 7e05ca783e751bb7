import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runCli } from '../../lib/cli/run.js'
import { createCachedFetchWithClock } from '../../lib/install/session.js'
import { SqliteStore } from '../../lib/stores/sqlite.js'
import { type Origin, startOrigin, tempDir } from '../helpers/origin.js'

/** The CLI's spec files share this: running it from source, and a cache file filled through real requests. */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = join(ROOT, 'lib', 'cli', 'main.ts')
export const TSX = import.meta.resolve('tsx')

export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs `command` to completion (`timeout` ms at most), whatever its exit status. */
export function run(command: string, args: string[], cwd: string, timeout = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error)
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr })
    })
  })
}

/** `arg` quoted for sh. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, "'\\''")}'`

/**
 * Runs the CLI from source in this process (`runCli`, what `main.ts` runs, with no terminal to confirm
 * on): what it prints and its exit status. A child process each time would cost a second of start-up;
 * `cliProcess` runs one where the process itself matters (a lock held by another process, pipes).
 */
export async function cli(args: string[], cwd: string): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    cwd,
  })
  return { code, stdout, stderr }
}

/** Runs the CLI from source, as a child process. */
export const cliProcess = (args: string[], cwd: string, timeout?: number): Promise<Run> =>
  run(process.execPath, ['--import', TSX, CLI, ...args], cwd, timeout)

/** What each test starts with: a loopback origin, a temp directory, and the cache file's path in it (not created). */
export interface CliState {
  origin: Origin
  dir: string
  db: string
}

/**
 * Registers, in the calling `describe`, a fresh {@link CliState} for each test (given to `take`, and
 * cleaned up after it); returns what fills and reads the cache file at `path()` (the test's own
 * `db`, which a test may point elsewhere).
 */
export function cliState(take: (state: CliState) => void, path: () => string) {
  let state: CliState
  let cleanup: () => Promise<void>
  beforeEach(async () => {
    const origin = await startOrigin()
    const temp = await tempDir('fetch-http-cache-cli-')
    cleanup = temp.cleanup
    state = { origin, dir: temp.dir, db: join(temp.dir, 'http_cache.sqlite') }
    take(state)
  })
  afterEach(async () => {
    await state.origin.close()
    await cleanup()
  })
  return {
    /** Fills the cache file through real requests: fresh responses for `paths`, expired ones for `expired`. */
    async fill(paths = ['/a?y=1&x=2', '/b'], expired = ['/old'], now: () => number = Date.now): Promise<void> {
      const cachedFetch = createCachedFetchWithClock({ cacheName: path() }, now)
      try {
        for (const path of paths) await (await cachedFetch(state.origin.url + path)).arrayBuffer()
        for (const path of expired) {
          await (
            await cachedFetch(state.origin.url + path, { cacheOptions: { expireAfter: new Date(Date.now() - 60_000) } })
          ).arrayBuffer()
        }
      } finally {
        await cachedFetch.cache.close()
      }
    },
    /** The request URLs in the file, read in this process. */
    async storedUrls(): Promise<string[]> {
      const store = new SqliteStore({ path: path() })
      try {
        const urls: string[] = []
        for await (const r of store.records()) urls.push(r.entry?.url ?? `invalid:${r.key}`)
        return urls.sort()
      } finally {
        await store.close()
      }
    },
  }
}
