/**
 * The child processes of a run: the origin, and one process per job. Every child gets a deadline
 * and is killed (by its own handle) past it.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Job, JobResult } from './jobs.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ORIGIN = fileURLToPath(new URL('./origin.ts', import.meta.url))
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const NATIVE_SQLITE = pathToFileURL(fileURLToPath(new URL('./native-sqlite.ts', import.meta.url))).href

/** Which Node runs the children, and how. */
export interface Runtime {
  node: string
  execArgv: string[]
  env: NodeJS.ProcessEnv
}

/**
 * The runtime for `node` (default: this process's). `betterSqlite3` is a better-sqlite3 package
 * directory built for that Node, for when `node_modules` was built for another one.
 */
export function runtime(node: string | undefined, betterSqlite3: string | undefined): Runtime {
  const execArgv = ['--import', 'tsx']
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (betterSqlite3) {
    execArgv.push('--import', NATIVE_SQLITE)
    env.BENCH_BETTER_SQLITE3 = betterSqlite3
  }
  return { node: node ?? process.execPath, execArgv, env }
}

function spawn(runtime: Runtime, script: string, extraArgv: readonly string[] = []): ChildProcess {
  return fork(script, [], {
    cwd: ROOT,
    execPath: runtime.node,
    execArgv: [...runtime.execArgv, ...extraArgv],
    env: runtime.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
}

/** The loopback origin, in its own process. */
export interface OriginProcess {
  url: string
  stop(): Promise<void>
}

export async function startOrigin(runtime: Runtime): Promise<OriginProcess> {
  const child = spawn(runtime, ORIGIN)
  const output = collect(child)
  const { port } = await answer<{ port: number }>(child, 30_000, 'the origin', output)
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.disconnect()
      }),
  }
}

/** What a job answered, and what its process printed. */
export interface JobRun {
  result: JobResult
  output: string
  ms: number
}

/** Runs `job` in a fresh process (footprints with `--expose-gc`), killed after `timeoutMs`. */
export async function runJob(runtime: Runtime, job: Job, timeoutMs: number): Promise<JobRun> {
  const started = performance.now()
  const child = spawn(runtime, CHILD, job.kind === 'footprint' ? ['--expose-gc'] : [])
  const output = collect(child)
  child.send(job)
  let result: JobResult
  try {
    result = await answer<JobResult>(child, timeoutMs, `job ${job.kind}`, output)
  } catch (error) {
    result = { kind: 'error', message: error instanceof Error ? error.message : String(error) }
  }
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve))
  return { result, output: output.text(), ms: performance.now() - started }
}

function collect(child: ChildProcess): { text(): string } {
  const chunks: Buffer[] = []
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk))
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk))
  return { text: () => Buffer.concat(chunks).toString('utf8') }
}

/**
 * The child's first message; rejects (killing the child) past the deadline, or when it exits
 * without one. A message can arrive just after the exit event, so an exit waits a moment first.
 */
function answer<T>(child: ChildProcess, timeoutMs: number, what: string, output: { text(): string }): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} gave no answer within ${timeoutMs / 1000} s\n${output.text()}`))
    }, timeoutMs)
    child.once('message', (message) => {
      clearTimeout(timer)
      resolve(message as T)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      setTimeout(() => reject(new Error(`${what} exited (${signal ?? code}) without an answer\n${output.text()}`)), 500)
    })
  })
}
