import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

/** The repository root: children run from it, so `--import tsx` resolves. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A child process running a TypeScript worker from source, driven by a start barrier. */
export interface Worker {
  /** Resolves when the worker has set up and waits for `go()`. */
  ready: Promise<void>
  /** Lets the worker start its work. */
  go(): void
  /** The worker's reported result; rejects when it exits without one, or is killed. */
  result: Promise<unknown>
  /** SIGKILLs the worker (used on timeout). */
  kill(): void
}

export interface WorkerOptions {
  /** Node flags before `--import tsx` (e.g. `--expose-gc`). */
  nodeFlags?: string[]
  /** Run as this user and group (the test runs as root and needs a user file modes apply to). */
  uid?: number
  gid?: number
  env?: NodeJS.ProcessEnv
  /**
   * A command the worker runs under, given node's command line as its last arguments (e.g.
   * `unshare -rm sh -c '… && exec "$@"' arg0`, to give it a file system of its own).
   */
  wrap?: readonly string[]
}

/**
 * Starts `node --import tsx <file> <args…>`. The worker calls `workerReady()` once set up, then
 * `workerResult(value)`; stderr is kept for the error message when it fails.
 */
export function startWorker(file: string, args: readonly string[], options: WorkerOptions = {}): Worker {
  const node = [process.execPath, ...(options.nodeFlags ?? []), '--import', 'tsx', file, ...args]
  const [command, ...commandArgs] = [...(options.wrap ?? []), ...node] as [string, ...string[]]
  const child: ChildProcessByStdio<Writable, Readable, Readable> = spawn(command, commandArgs, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  let onReady: () => void = () => {}
  let onReadyFailed: (error: Error) => void = () => {}
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve
    onReadyFailed = reject
  })
  let reported: { value: unknown } | undefined
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') onReady()
    else if (line.startsWith('result ')) reported = { value: JSON.parse(line.slice('result '.length)) }
  })
  const result = new Promise<unknown>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code === 0 && reported) return resolve(reported.value)
      const error = new Error(`worker ${file} exited with ${signal ?? code} without a result:\n${stderr}`)
      onReadyFailed(error)
      reject(error)
    })
  })
  // Rejections are surfaced through `result`; `ready` is only awaited before it.
  ready.catch(() => {})
  return {
    ready,
    go: () => child.stdin.write('go\n'),
    result,
    kill: () => child.kill('SIGKILL'),
  }
}

/**
 * Starts every worker, waits until all are set up, releases them at once, and collects their
 * results; kills them all and rejects after `timeoutMs`.
 */
export async function runWorkers(workers: Worker[], timeoutMs: number): Promise<unknown[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const worker of workers) worker.kill()
      reject(new Error(`workers did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
  })
  try {
    await Promise.race([Promise.all(workers.map((w) => w.ready)), timeout])
    for (const worker of workers) worker.go()
    return await Promise.race([Promise.all(workers.map((w) => w.result)), timeout])
  } catch (error) {
    for (const worker of workers) worker.kill()
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** In a worker: says it is set up, and resolves when the parent says go. */
export function workerReady(): Promise<void> {
  process.stdout.write('ready\n')
  return new Promise<void>((resolve) => {
    let started = false
    const lines = createInterface({ input: process.stdin })
    lines.on('line', (line) => {
      if (line !== 'go') return
      started = true
      lines.close()
      process.stdin.destroy() // nothing more comes; an open stdin would keep the worker alive
      resolve()
    })
    // The parent went away (or gave up) before saying go: do not linger.
    lines.on('close', () => {
      if (!started) process.exit(2)
    })
  })
}

/** In a worker: reports its result (JSON) to the parent. */
export function workerResult(value: unknown): void {
  process.stdout.write(`result ${JSON.stringify(value)}\n`)
}
