/**
 * Does the cache freeze a process while another process holds the SQLite write lock (issue 13)?
 * A contender on a SQLite file serves hits and cold misses (which store) at a steady pace while
 * `lock-holder.ts`, in a process of its own, holds the file's write lock in 2 s bursts with short
 * pauses. `perf_hooks.monitorEventLoopDelay` records the event loop's delay meanwhile: its p99 and
 * maximum are what every other timer, socket and request of the process would have waited.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { DatabaseSync } from 'node:sqlite'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { NEVER_EXPIRE } from '../lib/index.js'
import { type Check, check } from './checks.js'
import type { Contender } from './contenders/contender.js'
import { originCounts, resetOrigin, SMALL_BODY } from './origin-counts.js'

const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** One request started every PACE_MS, at most IN_FLIGHT at once. */
const PACE_MS = 2
const IN_FLIGHT = 8
const BURST_MS = 2_000
const PAUSE_MS = 200
const DURATION_MS = { full: 10_500, quick: 4_500 }
/** URLs stored before the lock is taken, and hit in turn with the misses. */
const HOT = 100

export interface LockDelay {
  /** Requests served while the lock was taken in bursts (half hits, half cold misses). */
  requests: number
  /** Event-loop delay in ms over the whole loaded period. */
  p50: number
  p99: number
  max: number
  bursts: number
  /** Share of the period the other process held the lock. */
  heldShare: number
  /** An error the contender let escape (thrown from a callback, no caller to catch it): the run stopped there. */
  uncaught: string | undefined
  checks: Check[]
}

export async function measureLockDelay(contender: Contender, origin: string, dir: string, quick: boolean): Promise<LockDelay> {
  const path = join(dir, 'locked.sqlite')
  const client = await contender.open({ dir, expireAfter: NEVER_EXPIRE, capacity: 100_000, sqlitePath: path })
  let requests = 0
  let misses = 0
  let holderOut: { bursts: number; held: number } | undefined
  let closed = false
  const close = async () => {
    if (!closed) await client.close()
    closed = true
  }
  const total = quick ? DURATION_MS.quick : DURATION_MS.full
  try {
    for (let i = 0; i < HOT; i++) await client.get(`${origin}/hit/${i}`)
    await resetOrigin(origin)
    const holder = spawn(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', HOLDER, path, `${BURST_MS}`, `${PAUSE_MS}`, `${total}`],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const lines = createInterface({ input: holder.stdout })
    const finished = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        const done = /^done (\d+) (\d+)$/.exec(line)
        if (done) holderOut = { bursts: Number(done[1]), held: Number(done[2]) }
      })
      holder.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited with ${code}`))))
    })
    await new Promise<void>((resolve, reject) => {
      lines.once('line', (line) => (line === 'locked' ? resolve() : reject(new Error(`lock holder said ${line}`))))
      holder.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before taking the lock`)))
    })
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    let running = true
    void finished.finally(() => {
      running = false
    })
    // A cache that lets a store error escape would end the process: record it and stop instead.
    let uncaught: string | undefined
    process.once('uncaughtException', (error) => {
      uncaught = error.message
      running = false
    })
    const runId = `${process.pid}-${Date.now()}`
    // A server's load, not a saturating loop: a request every PACE_MS (hits and cold misses in turn),
    // at most IN_FLIGHT at once, until the other process is done. The loop is idle in between, so
    // what the histogram records is work that held it, not the queue of requests.
    let inFlight = 0
    let failure: unknown
    const one = async (i: number) => {
      inFlight++
      try {
        if (i % 2 === 0) await client.get(`${origin}/hit/${i % HOT}`)
        else {
          misses++
          const size = await client.get(`${origin}/miss/${runId}-${i}`)
          if (size !== SMALL_BODY) throw new Error(`read ${size} bytes, expected ${SMALL_BODY}`)
        }
        requests++
      } catch (error) {
        failure ??= error
      } finally {
        inFlight--
      }
    }
    const started: Promise<void>[] = []
    for (let i = 0; running && i < 1_000_000; i++) {
      if (inFlight < IN_FLIGHT) started.push(one(i))
      await sleep(PACE_MS)
    }
    await Promise.all([...started, finished])
    histogram.disable()
    if (failure !== undefined) throw failure
    if (uncaught !== undefined) {
      return { requests, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, bursts: 0, heldShare: 0, uncaught, checks: [] }
    }
    const counts = await originCounts(origin)
    const ms = (ns: number) => ns / 1e6
    const checks = [check('origin requests (the misses only)', contender.caches ? misses : requests, counts.requests)]
    if (contender.role === 'subject') {
      await close() // commits what waited for the lock
      const stored = await rowsOnceCommitted(path, HOT + misses)
      checks.push(check('responses in the file afterwards (every one stored)', HOT + misses, stored))
    }
    return {
      requests,
      p50: ms(histogram.percentile(50)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      bursts: holderOut?.bursts ?? 0,
      heldShare: (holderOut?.held ?? 0) / total,
      uncaught,
      checks,
    }
  } finally {
    await close()
  }
}

/** Rows in a fetch-http-cache file. */
/**
 * The rows in the file once the closing cache has committed: `uninstallCache()` closes the store in the
 * background, after the last answers' writes have settled, so the last rows may land a moment after
 * `close()`. Read again until `expected` are there, for at most 2 s (a write lost stays short).
 */
async function rowsOnceCommitted(path: string, expected: number): Promise<number> {
  let rows = storedRows(path)
  for (let i = 0; i < 200 && rows < expected; i++) {
    await sleep(10)
    rows = storedRows(path)
  }
  return rows
}

function storedRows(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM entries').get() as { n: number }).n)
  } finally {
    db.close()
  }
}
