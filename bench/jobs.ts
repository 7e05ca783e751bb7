/**
 * A run is a list of jobs, each run in a fresh child process (`child.ts`): one per contender and
 * workload, one per footprint, and a fill then a measurement per SQLite size.
 */
import { join } from 'node:path'
import type { Check } from './checks.js'
import { CONTENDERS } from './contenders/index.js'
import type { Footprint } from './footprint.js'
import type { FillOutcome, ScaleOutcome } from './scale.js'
import type { Timing } from './timing.js'
import { WORKLOADS } from './workloads.js'

export type Job =
  | { kind: 'timing'; workload: string; contender: string; origin: string; quick: boolean }
  | { kind: 'footprint'; contender: string; origin: string; quick: boolean }
  | { kind: 'fill'; path: string; entries: number; origin: string }
  | { kind: 'scale'; path: string; entries: number; origin: string; quick: boolean }

export type JobResult =
  | { kind: 'timing'; timing: Timing; checks: Check[] }
  | ({ kind: 'footprint' } & Footprint)
  | ({ kind: 'fill' } & FillOutcome)
  | ({ kind: 'scale' } & ScaleOutcome)
  | { kind: 'error'; message: string }

/** SQLite sizes measured, in entries. */
export const SCALES = { full: [10_000, 100_000, 1_000_000], quick: [10_000, 100_000] }

export interface PlanOptions {
  origin: string
  quick: boolean
  /** Where the scale workload's SQLite files go (one at a time; each deleted after use). */
  scratch: string
  /** Only jobs whose label contains one of these (all when empty). */
  only: readonly string[]
}

/** A short name for progress lines and `--only`. */
export function label(job: Job): string {
  switch (job.kind) {
    case 'timing':
      return `${job.workload} × ${job.contender}`
    case 'footprint':
      return `footprint × ${job.contender}`
    case 'fill':
      return `sqlite-fill × ${job.entries}`
    case 'scale':
      return `sqlite-scale × ${job.entries}`
    default:
      return job satisfies never
  }
}

/** The jobs of a run, in order. */
export function plan(options: PlanOptions): Job[] {
  const { origin, quick } = options
  const jobs: Job[] = []
  for (const workload of WORKLOADS) {
    for (const contender of CONTENDERS) {
      if (workload.applies(contender))
        jobs.push({ kind: 'timing', workload: workload.name, contender: contender.name, origin, quick })
    }
  }
  for (const contender of CONTENDERS) {
    if (contender.keeps !== 'nothing') jobs.push({ kind: 'footprint', contender: contender.name, origin, quick })
  }
  for (const entries of quick ? SCALES.quick : SCALES.full) {
    const path = join(options.scratch, `scale-${entries}.sqlite`)
    jobs.push({ kind: 'fill', path, entries, origin }, { kind: 'scale', path, entries, origin, quick })
  }
  if (options.only.length === 0) return jobs
  // A scale measurement needs its fill.
  return jobs.filter((job) => {
    const name = job.kind === 'fill' ? `sqlite-scale × ${job.entries}` : label(job)
    return options.only.some((part) => name.includes(part))
  })
}
