/**
 * One job in a fresh process: the parent (`processes.ts`) sends a `Job` over IPC, this answers
 * with a `JobResult` and exits. A fresh process per job means no contender inherits another's
 * compiled code, sockets, heap or patched globals.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contender } from './contenders/index.js'
import { measureFootprint } from './footprint.js'
import type { Job, JobResult } from './jobs.js'
import { measureLockDelay } from './lock-delay.js'
import { measureMaintenance } from './maintenance.js'
import { resetOrigin } from './origin-counts.js'
import { fillStore, measureScale } from './scale.js'
import { FULL_BOUNDS, QUICK_BOUNDS } from './timing.js'
import { CAPACITY, workload } from './workloads.js'

async function execute(job: Job, dir: string): Promise<JobResult> {
  switch (job.kind) {
    case 'timing': {
      const who = contender(job.contender)
      const bounds = job.quick ? QUICK_BOUNDS : FULL_BOUNDS
      const outcomes = []
      for (const name of job.workloads) {
        const chosen = workload(name)
        // A fresh cache (and SQLite file) per workload, even when they share a process.
        const client = await who.open({
          dir: await mkdtemp(join(dir, 'w-')),
          expireAfter: chosen.expireAfter,
          capacity: CAPACITY,
        })
        try {
          await resetOrigin(job.origin)
          const context = { client, contender: who, origin: job.origin, bounds, quick: job.quick, runId: randomUUID() }
          outcomes.push({ workload: name, ...(await chosen.run(context)) })
        } finally {
          await client.close()
        }
      }
      return { kind: 'timing', outcomes }
    }
    case 'footprint':
      return { kind: 'footprint', ...(await measureFootprint(contender(job.contender), job.origin, dir, job.quick)) }
    case 'fill':
      return { kind: 'fill', ...(await fillStore(job.path, job.entries, job.origin)) }
    case 'scale':
      await resetOrigin(job.origin)
      return { kind: 'scale', ...(await measureScale(job.path, job.origin, dir, job.quick ? QUICK_BOUNDS : FULL_BOUNDS)) }
    case 'lock':
      return { kind: 'lock', ...(await measureLockDelay(contender(job.contender), job.origin, dir, job.quick)) }
    case 'maintenance':
      return { kind: 'maintenance', rows: await measureMaintenance(dir) }
    default:
      return job satisfies never
  }
}

function reply(result: JobResult): void {
  process.send?.(result, () => process.exit(0))
}

process.once('message', async (job: Job) => {
  const dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-bench-'))
  let result: JobResult
  try {
    result = await execute(job, dir)
  } catch (error) {
    result = { kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }
  }
  await rm(dir, { recursive: true, force: true })
  reply(result)
})
