import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { capabilities } from '../../lib/entry/store.js'
import { cacheInfo, createCachedFetch, StoreError, StoreTimeoutError, StoreUnavailableError } from '../../lib/index.js'
import { startWorker } from '../helpers/children.js'
import { startOrigin, tempDir } from '../helpers/origin.js'
import { type RedisServer, redisMissing, startRedis, uniquePrefix } from '../helpers/redis-server.js'
import type { FullDiskResult } from './workers/full-disk-worker.js'

/**
 * Faults produced for real, not simulated: a file system that is full under a real SQLite file, and a
 * Redis server that refuses connections, accepts them and never answers, or dies in the middle of a
 * write. In each the caller's request succeeds from the network, the failure reaches onError as a
 * typed error, and the cache works again once the fault is gone.
 */

/** Bound of every wait below: past it the test fails instead of hanging. */
const PATIENCE = 20_000

/**
 * Whether this machine lets a process mount a small tmpfs of its own (user and mount namespaces,
 * `unshare -rm`): the full-disk test needs a file system it can fill without filling the machine's.
 */
const noSmallDisk: string | false = (() => {
  if (process.platform !== 'linux') return 'a size-limited tmpfs needs Linux'
  const dir = mkdtempSync(join(tmpdir(), 'fetch-http-cache-probe-'))
  try {
    const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$0"', dir], { timeout: 10_000 })
    return probe.status === 0 ? false : 'cannot mount a size-limited tmpfs here (`unshare -rm` needs user and mount namespaces)'
  } finally {
    rmdirSync(dir)
  }
})()

describe('a full disk under a real SQLite file (a 1 MiB tmpfs, filled)', { skip: noSmallDisk }, () => {
  it('the request succeeds from the network, onError hears SQLITE_FULL, stored entries are still served, and storing resumes once there is room', async (t) => {
    const { dir, cleanup } = await tempDir()
    try {
      // The worker runs in its own mount namespace with the small file system mounted on `dir`.
      const worker = startWorker(join(import.meta.dirname, 'workers', 'full-disk-worker.ts'), [dir], {
        wrap: ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', dir],
      })
      const timer = setTimeout(() => worker.kill(), PATIENCE)
      worker.go()
      const result = (await worker.result.finally(() => clearTimeout(timer))) as FullDiskResult
      assert.deepEqual(result.before, { status: 200, intact: true, fromCache: false, stored: true })
      assert.ok(result.filled > 0, 'the file system was filled')
      // Full: the caller gets the whole body from the origin; the write fails for real, and says so.
      assert.equal(result.full.status, 200)
      assert.equal(result.full.intact, true)
      assert.equal(result.full.fromCache, false)
      await claim(t, 'a write the disk refused is not claimed as stored', () => assert.equal(result.full.stored, false))
      assert.equal(result.fullErrors.length, 1, JSON.stringify(result.fullErrors))
      assert.equal(result.fullErrors[0]?.name, 'StoreError')
      assert.equal(result.fullErrors[0]?.code, 'SQLITE_FULL')
      // What was stored before is intact and served.
      assert.deepEqual(result.oldEntry, { status: 200, intact: true, fromCache: true, stored: true })
      // Room again: the same response is stored, then served from the cache.
      assert.deepEqual(result.freed, { status: 200, intact: true, fromCache: false, stored: true })
      assert.deepEqual(result.hit, { status: 200, intact: true, fromCache: true, stored: true })
      assert.deepEqual(result.origin, { small: 1, big: 2 })
      assert.equal(result.integrity, 'ok')
    } finally {
      await cleanup()
    }
  })
})

describe('a cache on Redis when the server refuses, hangs or dies mid-write', { skip: redisMissing }, () => {
  const body = randomBytes(512 * 1024).toString('base64')

  /**
   * One test's origin and a cached fetch on the Redis at `url` (onError collected; short command
   * timeouts, bounded connects). Per test, not in beforeEach: node:test runs a suite's hooks around
   * every subtest too, and the `notYet` subtests would otherwise replace the origin mid-test.
   */
  async function setup(t: TestContext, url: string, commandTimeout = 300) {
    const origin = await startOrigin({ '/big': (_req, res) => void res.end(body) })
    t.after(() => origin.close())
    const reports: Error[] = []
    let onReport = () => {}
    /** Resolves at the first report to onError. */
    const reported = new Promise<void>((resolve) => {
      onReport = resolve
    })
    const cachedFetch = createCachedFetch({
      backend: 'redis',
      redis: { url, prefix: uniquePrefix('faults'), commandTimeout, connectTimeout: 300 },
      onError: (error) => {
        reports.push(error)
        onReport()
      },
    })
    return { origin, reports, reported, cachedFetch }
  }

  it('a refused connection: requests succeed from the network, nothing is claimed stored, one StoreUnavailableError', async (t) => {
    const port = await closedPort()
    const { origin, reports, cachedFetch } = await setup(t, `redis://127.0.0.1:${port}`)
    const claims: (boolean | undefined)[] = []
    try {
      await within(capabilities(cachedFetch.cache.store).ready?.ready())
      for (let i = 0; i < 3; i++) {
        const response = await within(cachedFetch(`${origin.url}/a`))
        assert.equal(await response.text(), 'hello /a')
        assert.equal(cacheInfo(response)?.fromCache, false)
        claims.push(await within(cacheInfo(response)?.stored))
      }
      assert.equal(origin.count('/a'), 3)
      assert.equal(reports.length, 1, reports.map((e) => e.message).join('\n'))
      assert.ok(reports[0] instanceof StoreUnavailableError, String(reports[0]))
      await claim(t, 'nothing is claimed stored', () => assert.deepEqual(claims, [false, false, false]))
    } finally {
      await cachedFetch.cache.close()
    }
  })

  it('a server that accepts and never answers: requests succeed from the network, nothing is claimed stored, one StoreTimeoutError', async (t) => {
    const silent = await silentServer()
    const { origin, reports, cachedFetch } = await setup(t, `redis://127.0.0.1:${silent.port}`)
    const claims: (boolean | undefined)[] = []
    try {
      await within(capabilities(cachedFetch.cache.store).ready?.ready())
      for (let i = 0; i < 3; i++) {
        const response = await within(cachedFetch(`${origin.url}/a`))
        assert.equal(await response.text(), 'hello /a')
        assert.equal(cacheInfo(response)?.fromCache, false)
        claims.push(await within(cacheInfo(response)?.stored))
      }
      assert.equal(origin.count('/a'), 3)
      assert.ok(silent.accepted() > 0, 'the cache did connect')
      assert.ok(reports.every((e) => e instanceof StoreError))
      await claim(t, 'nothing is claimed stored', () => assert.deepEqual(claims, [false, false, false]))
      await claim(t, 'onError hears a StoreTimeoutError', () =>
        assert.ok(
          reports.some((e) => e instanceof StoreTimeoutError),
          `reported: ${reports.map(String).join('; ') || 'nothing'}`,
        ),
      )
    } finally {
      await cachedFetch.cache.close()
      await silent.close()
    }
  })

  it('killed while a write is half sent: the request has its body, the write is not claimed, the next request goes to the network', async (t) => {
    const server = await startRedis()
    const proxy = await cutProxy(server)
    const { origin, reports, reported, cachedFetch } = await setup(t, `redis://127.0.0.1:${proxy.port}`, 1000)
    try {
      await within(capabilities(cachedFetch.cache.store).ready?.ready())
      const before = await within(cachedFetch(`${origin.url}/a`))
      await before.text()
      assert.equal(await within(cacheInfo(before)?.stored), true)

      const cut = proxy.cutNextWrite()
      const response = await within(cachedFetch(`${origin.url}/big`))
      assert.equal(await response.text(), body, 'the caller has the whole body')
      await within(cut) // half of the SET reached the server…
      await server.kill() // …which dies before the rest
      const stored = await within(cacheInfo(response)?.stored)
      await claim(t, 'the write is not claimed as stored', () => assert.equal(stored, false))
      // The server is gone: the next request is answered by the origin, in bounded time.
      const next = await within(cachedFetch(`${origin.url}/big`))
      assert.equal(await next.text(), body)
      assert.equal(cacheInfo(next)?.fromCache, false)
      assert.equal(origin.count('/big'), 2)
      // Reported as a store failure: the connection lost, or the reply that never came.
      await within(reported)
      assert.ok(
        reports.every((e) => e instanceof StoreError),
        reports.map(String).join('\n'),
      )
      // Coming back after a restart is redis-outage.test.ts's part.
    } finally {
      await cachedFetch.cache.close()
      await proxy.close()
      await server.stop()
    }
  })
})

/** One claim about what the cache says after the fault, as a subtest of its own. */
async function claim(t: TestContext, what: string, check: () => void): Promise<void> {
  await t.test(what, check)
}

/** `promise`, or a failure once PATIENCE has passed: a hang fails the test instead of stalling it. */
async function within<T>(promise: Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${PATIENCE} ms (a hang)`)), PATIENCE)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A loopback port nothing listens on: connecting is refused. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A TCP server that accepts connections and never sends a byte. */
async function silentServer(): Promise<{ port: number; accepted(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    close: () => closeServer(server, sockets),
  }
}

/**
 * A TCP relay in front of a real Redis. `cutNextWrite()` arms it: the next client chunk carrying a
 * write (`SET` / `EVAL`) is passed on only in part, and the promise resolves once that part is sent,
 * so the test can kill the server with a command half received. When the server side closes, the
 * client side is closed too, as with a direct connection.
 */
async function cutProxy(redis: RedisServer): Promise<{ port: number; cutNextWrite(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let armed: (() => void) | undefined
  const server = createServer((client) => {
    const upstream = connect(redis.port, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      if (armed && (text.includes('$3\r\nSET\r\n') || text.includes('$4\r\nEVAL\r\n'))) {
        const cut = armed
        armed = undefined
        upstream.write(chunk.subarray(0, chunk.length >> 1), () => cut())
        client.pause() // the rest never leaves
        return
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => client.write(chunk))
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    cutNextWrite: () => new Promise<void>((resolve) => (armed = resolve)),
    close: () => closeServer(server, sockets),
  }
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => server.close(resolve))
}
