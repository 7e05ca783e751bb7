/**
 * `npm run bench` — every contender × workload, each in a fresh child process against a loopback
 * origin in its own process; prints a Markdown report and writes it, with the JSON, under `.bench/`.
 *
 *   npm run bench                       full run (under 10 minutes)
 *   npm run bench -- --quick            shorter samples, smaller sets (under 1 minute)
 *   npm run bench -- --only hit,miss    jobs whose name contains one of these
 *   npm run bench -- --rounds 3         every timing job three times; the median round counts
 *   npm run bench -- --node <path> [--better-sqlite3 <dir> | --skip-sqlite]
 *       run the children on another Node; <dir>: a better-sqlite3 package built for it, or leave
 *       out everything that needs better-sqlite3
 *   npm run bench -- --skip-redis       leave out the Redis contender (left out anyway without redis-server)
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type RedisServer, redisMissing, startRedis } from '../spec/helpers/redis-server.js'
import type { Check } from './checks.js'
import { CONTENDERS } from './contenders/index.js'
import { type Job, type JobResult, label, plan } from './jobs.js'
import { runJob, runtime, startOrigin } from './processes.js'
import { buildReport, type JobRecord, toMarkdown, writeReport } from './report.js'

const OUT = fileURLToPath(new URL('../.bench/', import.meta.url))

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true, default: [] },
    node: { type: 'string' },
    'better-sqlite3': { type: 'string' },
    'skip-sqlite': { type: 'boolean', default: false },
    'skip-redis': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    out: { type: 'string', default: OUT },
  },
})

/** How long a job may take before it is killed. */
function deadline(job: Job): number {
  if (job.kind === 'fill') return 60_000 + job.entries / 2
  if (job.kind === 'timing') return 60_000 * job.workloads.length
  return job.kind === 'footprint' || job.kind === 'maintenance' ? 180_000 : 90_000
}

function summary(result: JobResult): string {
  switch (result.kind) {
    case 'timing':
      return result.outcomes
        .map(
          (o) =>
            `${o.timing.us.toFixed(2)} µs/req (CPU ${o.timing.cpu.toFixed(0)} µs)${o.checks.every((c) => c.ok) ? '' : ' (check failed)'}`,
        )
        .join(', ')
    case 'scale':
      return `${result.timing.us.toFixed(2)} µs/req${result.checks.every((c) => c.ok) ? '' : ' (check failed)'}`
    case 'footprint':
      return `${((result.heapPerEntry + result.externalPerEntry) / 1024).toFixed(2)} KiB/entry${result.diskPerEntry === undefined ? '' : `, ${Math.round(result.diskPerEntry)} B on disk`}`
    case 'fill':
      return `${result.entries.toLocaleString('en-US')} entries`
    case 'lock':
      if (result.uncaught !== undefined) return `crashed: uncaught "${result.uncaught}"`
      return `event-loop delay p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(0)} ms, ${result.requests} requests${result.checks.every((c) => c.ok) ? '' : ' (check failed)'}`
    case 'maintenance':
      return result.rows.map((r) => `${r.bodyBytes} B bodies: ${r.ms.toFixed(1)} ms`).join(', ')
    case 'error':
      return `FAILED: ${result.message.split('\n')[0]}`
    default:
      return result satisfies never
  }
}

async function main(): Promise<number> {
  const quick = values.quick
  const rounds = Number(values.rounds)
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) {
    throw new Error(`--rounds must be an integer from 1 to 9, not ${values.rounds}`)
  }
  const started = new Date()
  const load = loadavg()[0] ?? 0
  const env = runtime(values.node, values['better-sqlite3'])
  // One redis-server on loopback for the run (empty, no persistence), like the tests start theirs.
  let redis: RedisServer | undefined
  const skipRedis = values['skip-redis'] || redisMissing !== undefined
  if (!values['skip-redis'] && redisMissing) process.stderr.write(`Leaving out the Redis contender: ${redisMissing}\n`)
  if (!skipRedis) {
    redis = await startRedis()
    env.env.BENCH_REDIS_URL = redis.url
  }
  const origin = await startOrigin(env)
  const scratch = await mkdtemp(join(scaleRoot(), 'fetch-http-cache-bench-scale-'))
  const records: JobRecord[] = []
  let node = process.version
  try {
    const only = values.only.flatMap((part) => part.split(',')).filter(Boolean)
    const jobs = plan({ origin: origin.url, quick, scratch, only, skipSqlite: values['skip-sqlite'], skipRedis, rounds })
    for (const [i, job] of jobs.entries()) {
      process.stderr.write(`[${i + 1}/${jobs.length}] ${label(job)} … `)
      const run = await runJob(env, job, deadline(job))
      process.stderr.write(`${summary(run.result)} (${(run.ms / 1000).toFixed(1)} s)\n`)
      const output = run.output.trim()
      if (output) process.stderr.write(`${output.replace(/^/gm, '    │ ')}\n`)
      records.push({ job, result: run.result })
      if (job.kind === 'scale') await removeSqlite(job.path)
    }
    node = values.node ? await nodeVersion(values.node) : node
  } finally {
    await origin.stop()
    await redis?.stop()
    await rm(scratch, { recursive: true, force: true })
  }
  const report = buildReport(
    {
      node,
      platform: `${process.platform} ${process.arch}, ${cpus()[0]?.model ?? 'unknown CPU'}`,
      cpus: cpus().length,
      load: [load, loadavg()[0] ?? 0],
      mode: quick ? 'quick' : 'full',
      rounds,
      started: started.toISOString(),
      seconds: (Date.now() - started.getTime()) / 1000,
      scaleDir: scaleRoot(),
    },
    records,
  )
  const markdown = toMarkdown(report)
  process.stdout.write(`\n${markdown}`)
  const paths = await writeReport(values.out, report, markdown)
  process.stdout.write(`\nWritten: ${paths.markdown}\n         ${paths.json}\n`)
  // A failed check on fetch-http-cache (a fast number from a cache that did not cache) fails the run;
  // on another contender it is a finding about that contender, shown in the table.
  const subjects = new Set(CONTENDERS.filter((c) => c.role !== 'reference').map((c) => c.name))
  const failed = (checks: readonly Check[]) => checks.some((c) => !c.ok)
  const broken =
    report.timings.some((r) => subjects.has(r.contender) && failed(r.checks)) ||
    report.footprints.some((f) => subjects.has(f.contender) && failed(f.checks)) ||
    report.scale.some((s) => failed(s.checks)) ||
    report.lock.some((l) => subjects.has(l.contender) && failed(l.checks)) ||
    report.maintenance.some((m) => failed(m.checks))
  return report.failures.length > 0 || broken ? 1 : 0
}

/**
 * Where the scale workload's files go: a RAM-backed directory when there is one, so filling a
 * million entries is bound by SQLite rather than by the disk. Hits read from the page cache
 * either way.
 */
function scaleRoot(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

async function removeSqlite(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true })
}

async function nodeVersion(node: string): Promise<string> {
  return new Promise((resolve) => execFile(node, ['--version'], (error, stdout) => resolve(error ? node : stdout.trim())))
}

process.exitCode = await main()
