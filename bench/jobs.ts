/**
 * A run is a list of jobs, each run in a fresh child process (`child.ts`): one per contender and
 * workload (with `--quick`, one per contender running all its workloads, each on a fresh cache),
 * one per footprint, and a fill then a measurement per SQLite size.
 */
import { join } from 'node:path'
import { CONTENDERS } from './contenders/index.js'
import type { Footprint } from './footprint.js'
import type { LockDelay } from './lock-delay.js'
import type { MaintenanceRow } from './maintenance.js'
import type { FillOutcome, ScaleOutcome } from './scale.js'
import { WORKLOADS, type WorkloadOutcome } from './workloads.js'

export type Job =
  | { kind: 'timing'; workloads: string[]; contender: string; origin: string; quick: boolean; round: number }
  | { kind: 'footprint'; contender: string; origin: string; quick: boolean }
  | { kind: 'fill'; path: string; entries: number; origin: string }
  | { kind: 'scale'; path: string; entries: number; origin: string; quick: boolean }
  | { kind: 'lock'; contender: string; origin: string; quick: boolean }
  | { kind: 'maintenance' }

export type JobResult =
  | { kind: 'timing'; outcomes: ({ workload: string } & WorkloadOutcome)[] }
  | ({ kind: 'footprint' } & Footprint)
  | ({ kind: 'fill' } & FillOutcome)
  | ({ kind: 'scale' } & ScaleOutcome)
  | ({ kind: 'lock' } & LockDelay)
  | { kind: 'maintenance'; rows: MaintenanceRow[] }
  | { kind: 'error'; message: string }

/** SQLite sizes measured, in entries. */
export const SCALES = { full: [10_000, 100_000, 1_000_000], quick: [2_000, 5_000] }

/** Who runs with another process holding the SQLite write lock: the stores on a file, and fetch as the floor. */
const LOCK_CONTENDERS = new Set(['fetch', 'fc-install-sqlite', 'undici-cache-sqlite'])

/** `--quick` measures the footprint of the limit and of the two stores the targets name only. */
const QUICK_FOOTPRINTS = new Set(['map', 'fc-install-memory', 'fc-install-sqlite'])

export interface PlanOptions {
  origin: string
  quick: boolean
  /** Where the scale workload's SQLite files go (one at a time; each deleted after use). */
  scratch: string
  /** Only jobs whose label contains one of these (all when empty). */
  only: readonly string[]
  /** Leave out everything that loads better-sqlite3 (for a Node it was not built for). */
  skipSqlite: boolean
  /** Leave out the Redis contender (no redis-server, or `--skip-redis`). */
  skipRedis: boolean
  /** How many times to run every timing job (each later round in the opposite order). */
  rounds: number
}

/** A short name for progress lines and `--only`. */
export function label(job: Job): string {
  switch (job.kind) {
    case 'timing':
      return `${job.workloads.join(', ')} × ${job.contender}${job.round > 0 ? ` (round ${job.round + 1})` : ''}`
    case 'footprint':
      return `footprint × ${job.contender}`
    case 'fill':
      return `sqlite-fill × ${job.entries}`
    case 'scale':
      return `sqlite-scale × ${job.entries}`
    case 'lock':
      return `lock-delay × ${job.contender}`
    case 'maintenance':
      return 'maintenance'
    default:
      return job satisfies never
  }
}

/** The jobs of a run, in order. */
export function plan(options: PlanOptions): Job[] {
  const { origin, quick } = options
  const contenders = CONTENDERS.filter((c) => !(options.skipSqlite && c.sqlite) && !(options.skipRedis && c.redis))
  const jobs: Job[] = []
  if (quick) {
    for (const contender of contenders) {
      const workloads = WORKLOADS.filter((w) => w.applies(contender)).map((w) => w.name)
      jobs.push({ kind: 'timing', workloads, contender: contender.name, origin, quick, round: 0 })
    }
  } else {
    for (const workload of WORKLOADS) {
      for (const contender of contenders) {
        if (!workload.applies(contender)) continue
        jobs.push({ kind: 'timing', workloads: [workload.name], contender: contender.name, origin, quick, round: 0 })
      }
    }
  }
  const first = jobs.slice()
  for (let round = 1; round < options.rounds; round++) {
    // Alternating the order keeps a slow drift (a busy neighbour) from favouring one contender.
    const order = round % 2 === 1 ? first.slice().reverse() : first
    for (const job of order) jobs.push({ ...job, round } as Job)
  }
  for (const contender of contenders) {
    // A server's entries are not in this process: there is no footprint to measure here.
    if (contender.keeps === 'nothing' || contender.keeps === 'server' || (quick && !QUICK_FOOTPRINTS.has(contender.name)))
      continue
    jobs.push({ kind: 'footprint', contender: contender.name, origin, quick })
  }
  for (const contender of contenders) {
    if (LOCK_CONTENDERS.has(contender.name)) jobs.push({ kind: 'lock', contender: contender.name, origin, quick })
  }
  if (!options.skipSqlite) jobs.push({ kind: 'maintenance' })
  for (const entries of options.skipSqlite ? [] : quick ? SCALES.quick : SCALES.full) {
    const path = join(options.scratch, `scale-${entries}.sqlite`)
    jobs.push({ kind: 'fill', path, entries, origin }, { kind: 'scale', path, entries, origin, quick })
  }
  if (options.only.length === 0) return jobs
  const wanted = (name: string) => options.only.some((part) => name.includes(part))
  const kept: Job[] = []
  for (const job of jobs) {
    if (job.kind === 'timing') {
      const workloads = job.workloads.filter((w) => wanted(`${w} × ${job.contender}`))
      if (workloads.length > 0) kept.push({ ...job, workloads })
    } else if (wanted(job.kind === 'fill' ? `sqlite-scale × ${job.entries}` : label(job))) {
      kept.push(job) // a scale measurement comes with its fill
    }
  }
  return kept
}
