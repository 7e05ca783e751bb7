/**
 * Soak: many processes on one SQLite cache file, for longer than CI runs it
 * (spec/reliability/processes.test.ts runs 4 × 5,000 operations).
 *
 *   npx tsx bench/soak-processes.ts [--workers 8] [--ops 100000] [--keys 2000] [--max-size 1048576]
 *                                  [--rounds 3] [--minutes 30] [--seed 1] [--keep]
 *
 * Each round starts `--workers` processes running the store worker (mixed reads, writes, deletes,
 * expiry prunes and, with --max-size, size pruning) on one file, then checks what CI checks: no
 * error reached a caller, every acknowledged write reads back (or, with --max-size, was pruned, never
 * stale or torn), integrity_check is ok, and the trigger-kept size equals the rows' sum. Rounds
 * alternate unbounded and bounded when --max-size is given. Prints one JSON line per round; exits
 * 1 at the first failed round. Bounded in time by --minutes (every worker is killed past it).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT, runWorkers, startWorker } from '../spec/helpers/children.js'
import {
  checkFinalState,
  inspectFile,
  type StoreWorkerConfig,
  type StoreWorkerResult,
} from '../spec/reliability/workers/store-worker.js'

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '8' },
    ops: { type: 'string', default: '100000' },
    keys: { type: 'string', default: '2000' },
    'max-size': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    minutes: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
})

const workers = Number(values.workers)
const ops = Number(values.ops)
const keys = Number(values.keys)
const maxSize = values['max-size'] === undefined ? undefined : Number(values['max-size'])
const rounds = Number(values.rounds)
const deadline = Date.now() + Number(values.minutes) * 60_000
const worker = join(ROOT, 'spec', 'reliability', 'workers', 'store-worker.ts')

const dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-soak-'))
let failed = false
try {
  for (let round = 0; round < rounds && !failed; round++) {
    const bound = maxSize !== undefined && round % 2 === 1 ? maxSize : undefined
    const path = join(dir, `round-${round}.sqlite`)
    const started = performance.now()
    const children = Array.from({ length: workers }, (_, id) => {
      const config: StoreWorkerConfig = {
        path,
        id,
        workers,
        ops,
        keys,
        seed: Number(values.seed) * 1000 + round * 100 + id,
        ...(bound !== undefined ? { maxSize: bound } : {}),
      }
      return startWorker(worker, [JSON.stringify(config)])
    })
    const results = (await runWorkers(children, Math.max(1000, deadline - Date.now()))) as StoreWorkerResult[]
    const errors = results.flatMap((r) => r.errors)
    const violations = results.flatMap((r) => r.violations)
    const check = checkFinalState(path, results, bound !== undefined)
    const file = inspectFile(path)
    const problems = [
      ...errors.slice(0, 5),
      ...violations.slice(0, 5),
      ...check.problems.slice(0, 5),
      ...(file.integrity === 'ok' ? [] : [`integrity_check: ${file.integrity}`]),
      ...(file.total === file.sum ? [] : [`total_size ${file.total} != sum ${file.sum}`]),
      ...(bound !== undefined && file.total > bound ? [`${file.total} bytes stored over the bound ${bound}`] : []),
    ]
    failed = problems.length > 0
    const seconds = (performance.now() - started) / 1000
    console.log(
      JSON.stringify({
        round,
        maxSize: bound ?? null,
        workers,
        ops,
        seconds: Number(seconds.toFixed(1)),
        opsPerSecond: Math.round((workers * ops) / seconds),
        errors: errors.length,
        violations: violations.length,
        durableFound: check.durableFound,
        present: check.present,
        written: check.written,
        rows: file.rows,
        bytes: file.total,
        problems,
      }),
    )
  }
} finally {
  if (!values.keep) await rm(dir, { recursive: true, force: true })
  else console.error(`files kept in ${dir}`)
}
process.exitCode = failed ? 1 : 0
