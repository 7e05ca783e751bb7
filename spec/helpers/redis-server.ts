import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A real `redis-server` (Debian's package) for the Redis tests: started on a free loopback port with
 * a temporary directory and no persistence, stopped (and the directory removed) after.
 */

const BINARY = 'redis-server'

/**
 * Why the Redis tests cannot run here, or `undefined` when they can. Tests pass it as `skip`, so a
 * machine without Redis reports them as skipped with how to run them, never as passed.
 */
export const redisMissing: string | undefined = (() => {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' })
  if (probe.error === undefined && probe.status === 0) return undefined
  return 'redis-server is not installed: run `apt-get install redis-server` (Debian/Ubuntu) to run the Redis tests'
})()

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string
  port: number
  /** SIGKILLs the server (no shutdown, no save); resolves once it has exited. */
  kill(): Promise<void>
  /** SIGSTOPs / SIGCONTs it: a server that accepts nothing and answers nothing, then comes back. */
  pause(): void
  resume(): void
  /** Starts it again on the same port, empty (nothing was persisted). */
  restart(): Promise<void>
  /** Runs `redis-cli` against it and returns its output (for checks that must not go through our client). */
  cli(...args: string[]): string
  stop(): Promise<void>
}

const START_TIMEOUT = 10_000

export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-redis-'))
  const port = await freePort()
  let child = await launch(port, dir)
  const exited = (proc: ChildProcess) =>
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      child.kill('SIGCONT') // a paused server would not die from SIGKILL's exit handling otherwise
      child.kill('SIGKILL')
      await exited(child)
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async restart() {
      child = await launch(port, dir)
    },
    cli(...args) {
      const run = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 5000 })
      if (run.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${run.stderr}`)
      return run.stdout
    },
    async stop() {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited(child)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000)
  })
  const deadline = Date.now() + START_TIMEOUT
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${stderr}`)
    if (await answersPing(port)) return child
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child.kill('SIGKILL')
  throw new Error(`redis-server did not answer on port ${port} within ${START_TIMEOUT} ms: ${stderr}`)
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

/** A port nothing listens on now (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A plain node-redis client, for looking under the store; bulk strings come back as Buffers. */
export type RawClient = Awaited<ReturnType<typeof rawClient>>

export async function rawClient(url: string) {
  const { createClient, RESP_TYPES } = await import('redis')
  const client = createClient({ url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  client.on('error', () => {}) // the outage tests kill the server under it
  await client.connect()
  return client
}

let prefixes = 0

/** A prefix no other test uses, so tests sharing a server never see each other's keys. */
export function uniquePrefix(name = 'test'): string {
  prefixes++
  return `fc-${name}-${process.pid}-${prefixes}:`
}
