/**
 * Turns the jobs' answers into the run's report: ratios to the baseline measured in the same run,
 * the issue's targets, a Markdown rendering and a JSON file.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Check } from './checks.js'
import { CONTENDERS } from './contenders/index.js'
import { type Job, type JobResult, label } from './jobs.js'
import type { LockDelay } from './lock-delay.js'
import type { MaintenanceRow } from './maintenance.js'
import { WORKLOADS } from './workloads.js'

export interface TimingRow {
  workload: string
  contender: string
  /** The median over rounds of each round's median. */
  us: number
  /** Each round's median, in run order. */
  rounds: number[]
  rps: number
  p25: number
  p75: number
  samples: number
  /** µs ÷ the baseline's µs on the same workload. */
  ratio: number | undefined
  /** CPU µs of the client process per request (the median round's), and its ratio to the baseline's. */
  cpu: number
  cpuRatio: number | undefined
  checks: Check[]
}

export interface FootprintRow {
  contender: string
  entries: number
  heapPerEntry: number
  externalPerEntry: number
  rssPerEntry: number
  diskPerEntry: number | undefined
  checks: Check[]
}

export interface ScaleRow {
  entries: number
  us: number
  rps: number
  /** µs ÷ µs at the smallest size. */
  ratio: number | undefined
  fileBytes: number
  fillSeconds: number | undefined
  checks: Check[]
}

export interface TargetRow {
  target: string
  measured: number | undefined
  goal: number
  unit: '×' | 'ms'
  met: boolean | undefined
}

export type LockRow = { contender: string } & LockDelay

export interface RunReport {
  node: string
  platform: string
  cpus: number
  /** The 1-minute load average when the run started and ended (other work skews the numbers). */
  load: [number, number]
  mode: 'full' | 'quick'
  /** Timing rounds (`--rounds`). */
  rounds: number
  started: string
  seconds: number
  /** Where the scale workload's SQLite files were. */
  scaleDir: string
  timings: TimingRow[]
  footprints: FootprintRow[]
  scale: ScaleRow[]
  lock: LockRow[]
  maintenance: MaintenanceRow[]
  targets: TargetRow[]
  failures: { job: string; message: string }[]
}

export interface JobRecord {
  job: Job
  result: JobResult
}

export type RunFacts = Omit<RunReport, 'timings' | 'footprints' | 'scale' | 'lock' | 'maintenance' | 'targets' | 'failures'>

export function buildReport(facts: RunFacts, records: readonly JobRecord[]): RunReport {
  const measured = new Map<string, TimingRow[]>()
  const footprints: FootprintRow[] = []
  const scale: ScaleRow[] = []
  const lock: LockRow[] = []
  const maintenance: MaintenanceRow[] = []
  const failures: RunReport['failures'] = []
  const fills = new Map<number, number>()
  for (const { job, result } of records) {
    if (result.kind === 'error') failures.push({ job: label(job), message: result.message })
    else if (job.kind === 'timing' && result.kind === 'timing') {
      for (const { workload, timing, checks } of result.outcomes) {
        const { us, rps, p25, p75, samples, cpu } = timing
        const row = {
          ...{ workload, contender: job.contender, us, rounds: [us], rps, p25, p75, samples, ratio: undefined },
          ...{ cpu, cpuRatio: undefined, checks },
        }
        const key = `${workload}\n${job.contender}`
        measured.set(key, [...(measured.get(key) ?? []), row])
      }
    } else if (job.kind === 'footprint' && result.kind === 'footprint') {
      const { entries, heapPerEntry, externalPerEntry, rssPerEntry, diskPerEntry, checks } = result
      footprints.push({ contender: job.contender, entries, heapPerEntry, externalPerEntry, rssPerEntry, diskPerEntry, checks })
    } else if (job.kind === 'fill' && result.kind === 'fill') {
      fills.set(job.entries, result.seconds)
    } else if (job.kind === 'scale' && result.kind === 'scale') {
      const { us, rps } = result.timing
      const row = { entries: job.entries, us, rps, ratio: undefined, fileBytes: result.fileBytes, checks: result.checks }
      scale.push({ ...row, fillSeconds: fills.get(job.entries) })
    } else if (job.kind === 'lock' && result.kind === 'lock') {
      const { kind: _kind, ...delay } = result
      lock.push({ contender: job.contender, ...delay })
    } else if (job.kind === 'maintenance' && result.kind === 'maintenance') {
      maintenance.push(...result.rows)
    }
  }
  const timings = [...measured.values()].map(combineRounds)
  for (const row of timings) {
    const baseline = timings.find((r) => r.workload === row.workload && r.contender === 'fetch')
    row.ratio = baseline ? row.us / baseline.us : undefined
    row.cpuRatio = baseline ? row.cpu / baseline.cpu : undefined
  }
  const smallest = scale[0]
  for (const row of scale) row.ratio = smallest ? row.us / smallest.us : undefined
  const report: RunReport = { ...facts, timings, footprints, scale, lock, maintenance, targets: [], failures }
  report.targets = targets(report)
  return report
}

/** One row for several rounds: the round with the median time, with every round's time and check kept. */
function combineRounds(rows: TimingRow[]): TimingRow {
  const sorted = rows.slice().sort((a, b) => a.us - b.us)
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as TimingRow
  return {
    ...median,
    rounds: rows.map((r) => r.us),
    samples: rows.reduce((sum, r) => sum + r.samples, 0),
    checks: rows.flatMap((r) => r.checks.filter((c) => !c.ok)).concat(median.checks.filter((c) => c.ok)),
  }
}

/** The targets of issue 13, measured through the patched global fetch; ratios within this run. */
function targets(report: RunReport): TargetRow[] {
  const us = (workload: string, contender: string) =>
    report.timings.find((r) => r.workload === workload && r.contender === contender)?.us
  const divide = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a / b)
  const row = (target: string, measured: number | undefined, goal: number, unit: TargetRow['unit'] = '×'): TargetRow => ({
    target,
    measured,
    goal,
    unit,
    met: measured === undefined ? undefined : measured <= goal,
  })
  const stores = [
    ['fc-install-memory', 'memory'],
    ['fc-install-sqlite', 'SQLite'],
  ] as const
  const goals: [workload: string, title: string, over: 'map' | 'fetch', memory: number, sqlite: number][] = [
    ['hit', 'warm hit', 'map', 1.3, 1.6],
    ['hit-10k', 'hits across 10,000 URLs', 'map', 1.5, 2.5],
    ['miss-store', 'cold miss + store', 'fetch', 1.1, 1.2],
    ['revalidate-304', 'revalidation (304)', 'fetch', 1.05, 1.15],
  ]
  const rows: TargetRow[] = []
  for (const [workload, title, over, ...goal] of goals) {
    for (const [i, [contender, store]] of stores.entries()) {
      const by = over === 'map' ? 'the limit' : 'fetch'
      rows.push(row(`${title}, ${store} store ÷ ${by}`, divide(us(workload, contender), us(workload, over)), goal[i] as number))
    }
  }
  const footprint = (name: string) => report.footprints.find((f) => f.contender === name)
  const perEntry = (name: string) => {
    const found = footprint(name)
    return found && found.heapPerEntry + found.externalPerEntry
  }
  rows.push(
    row('memory per cached 1 KiB entry, memory store ÷ a bare Map', divide(perEntry('fc-install-memory'), perEntry('map')), 1),
    row(
      'RSS growth per cached 1 KiB entry, memory store ÷ a bare Map (issue 24)',
      divide(footprint('fc-install-memory')?.rssPerEntry, footprint('map')?.rssPerEntry),
      1.5,
    ),
    row(
      'bytes on disk per entry, SQLite store ÷ undici’s SQLite store (issue 24)',
      divide(footprint('fc-install-sqlite')?.diskPerEntry, footprint('undici-cache-sqlite')?.diskPerEntry),
      1,
    ),
  )
  const locked = report.lock.find((l) => l.contender === 'fc-install-sqlite')
  rows.push(row('event-loop delay p99 while another process holds the write lock in 2 s bursts', locked?.p99, 5, 'ms'))
  const large = report.maintenance.find((m) => m.bodyBytes >= 1024 * 1024)
  rows.push(
    row(`count() + urls() on ${large ? mib(large.bodyBytes * large.entries) : '200 MiB'} of 1 MiB bodies`, large?.ms, 20, 'ms'),
  )
  const largest = report.scale.at(-1)
  if (largest)
    rows.push(
      row(`SQLite hit at ${count(largest.entries)} entries ÷ at ${count(report.scale[0]?.entries ?? 0)}`, largest.ratio, 1.5),
    )
  return rows
}

export function toMarkdown(report: RunReport): string {
  const lines: string[] = []
  const minutes = `${Math.floor(report.seconds / 60)} min ${Math.round(report.seconds % 60)} s`
  lines.push(
    `Node ${report.node}, ${report.platform}, ${report.cpus} CPUs, ${report.mode} run${report.rounds > 1 ? ` (${report.rounds} rounds, median round shown)` : ''}, ${minutes}, load ${report.load[0].toFixed(2)} → ${report.load[1].toFixed(2)}, ${report.started}`,
    '',
    '### Time per request',
    '',
    'Medians of samples (µs per request, and requests per second at that median; in-flight rows: wall time of a batch ÷ 64). × fetch: ratio to built-in fetch without a cache, measured in the same run. CPU: user + system time of the client process per request over the samples (the origin runs apart), steadier than wall time on a loaded machine. Check: what the origin counted (hits never reached it; revalidations all did).',
    '',
    '| workload | contender | µs/req | req/s | × fetch | CPU µs/req | CPU × fetch | check |',
    '| --- | --- | --: | --: | --: | --: | --: | --- |',
  )
  for (const workload of WORKLOADS) {
    for (const contender of CONTENDERS) {
      const row = report.timings.find((r) => r.workload === workload.name && r.contender === contender.name)
      if (!row) continue
      lines.push(
        `| ${workload.title} | ${contender.name} | ${fixed(row.us)} | ${count(Math.round(row.rps))} | ${ratio(row.ratio)} | ${fixed(row.cpu)} | ${ratio(row.cpuRatio)} | ${checks(row.checks)} |`,
      )
    }
  }
  lines.push('', '### Targets (issues 13 and 24)', '', '| target | measured | goal | met |', '| --- | --: | --: | --- |')
  for (const t of report.targets) {
    const measured = t.measured === undefined ? 'n/a' : t.unit === '×' ? ratio(t.measured) : `${t.measured.toFixed(1)} ms`
    const goal = t.unit === '×' ? `≤ ${t.goal}×` : `≤ ${t.goal} ms`
    lines.push(`| ${t.target} | ${measured} | ${goal} | ${t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'} |`)
  }
  if (report.footprints.length > 0) {
    lines.push(
      '',
      '### Footprint per cached 1 KiB entry',
      '',
      'Heap: `heapUsed` growth; external: `external` growth (ArrayBuffers and other memory outside the JS heap), after GC; RSS: resident set growth (allocator slack included). Disk: file size after closing (WAL checkpointed).',
      '',
      '| contender | entries | heap B | external B | memory KiB | RSS B | disk B |',
      '| --- | --: | --: | --: | --: | --: | --: |',
    )
    for (const f of report.footprints) {
      const memory = (f.heapPerEntry + f.externalPerEntry) / 1024
      const disk = f.diskPerEntry === undefined ? '' : count(Math.round(f.diskPerEntry))
      lines.push(
        `| ${f.contender} | ${count(f.entries)} | ${count(Math.round(f.heapPerEntry))} | ${count(Math.round(f.externalPerEntry))} | ${memory.toFixed(2)} | ${count(Math.round(f.rssPerEntry))} | ${disk} |${f.checks.every((c) => c.ok) ? '' : ` ${checks(f.checks)}`}`,
      )
    }
  }
  if (report.scale.length > 0) {
    lines.push(
      '',
      '### SQLite hit latency by file size',
      '',
      `Hits through the patched fetch, spread over 1,000 hot entries placed evenly among the rest; the rest written by \`SqliteStore.set\` (copies of a real entry). Files in ${report.scaleDir}.`,
      '',
      '| entries | µs/hit | req/s | × smallest | file | bytes/entry | fill | check |',
      '| --: | --: | --: | --: | --: | --: | --: | --- |',
    )
    for (const s of report.scale) {
      const fill = s.fillSeconds === undefined ? '' : `${s.fillSeconds.toFixed(1)} s`
      lines.push(
        `| ${count(s.entries)} | ${fixed(s.us)} | ${count(Math.round(s.rps))} | ${ratio(s.ratio)} | ${mib(s.fileBytes)} | ${count(Math.round(s.fileBytes / s.entries))} | ${fill} | ${checks(s.checks)} |`,
      )
    }
  }
  if (report.lock.length > 0) {
    lines.push(
      '',
      '### Event-loop delay while another process holds the SQLite write lock',
      '',
      "Hits and cold misses (which store) in turn, one started every 2 ms (at most 8 at once), while another process takes the file's write lock for 2 s, lets go for 0.2 s, and again. Delay of the event loop meanwhile (`monitorEventLoopDelay`, 1 ms resolution): what every other timer, socket and request of the process waited. `fetch` keeps nothing: the floor.",
      '',
      '| contender | requests | p50 ms | p99 ms | max ms | lock held | check |',
      '| --- | --: | --: | --: | --: | --: | --- |',
    )
    for (const l of report.lock) {
      if (l.uncaught !== undefined) {
        lines.push(`| ${l.contender} | ${count(l.requests)} | | | | | **crashed: uncaught "${l.uncaught}"** |`)
        continue
      }
      lines.push(
        `| ${l.contender} | ${count(l.requests)} | ${l.p50.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.max.toFixed(0)} | ${(l.heldShare * 100).toFixed(0)}% (${l.bursts} bursts) | ${checks(l.checks)} |`,
      )
    }
  }
  if (report.maintenance.length > 0) {
    lines.push(
      '',
      '### Maintenance without bodies',
      '',
      '`cache.count()` + `cache.urls()` on a SQLite file, median of 7 runs. The same time for both body sizes: no body is read.',
      '',
      '| entries | body | stored | ms | check |',
      '| --: | --: | --: | --: | --- |',
    )
    for (const m of report.maintenance) {
      lines.push(
        `| ${count(m.entries)} | ${count(m.bodyBytes)} B | ${mib(m.entries * m.bodyBytes)} | ${m.ms.toFixed(1)} | ${checks(m.checks)} |`,
      )
    }
  }
  if (report.failures.length > 0) {
    lines.push('', '### Failed jobs', '')
    for (const f of report.failures) lines.push(`- ${f.job}: ${f.message.split('\n')[0]}`)
  }
  return `${lines.join('\n')}\n`
}

/** Writes `<dir>/bench-<stamp>.json` and `.md`; returns their paths. */
export async function writeReport(dir: string, report: RunReport, markdown: string): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true })
  const stamp = report.started.replace(/[:.]/g, '-')
  const paths = { json: join(dir, `bench-${stamp}.json`), markdown: join(dir, `bench-${stamp}.md`) }
  await writeFile(paths.json, `${JSON.stringify(report, null, 2)}\n`)
  await writeFile(paths.markdown, markdown)
  return paths
}

function checks(list: readonly Check[]): string {
  // Several rounds can fail the same way: say it once.
  const failed = list.filter((c, i) => !c.ok && list.findIndex((d) => !d.ok && d.what === c.what) === i)
  if (failed.length === 0) return list.length > 0 ? 'ok' : ''
  return failed.map((c) => `**${c.what}: ${count(c.actual)}, expected ${count(c.expected)}**`).join('; ')
}

function fixed(us: number): string {
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2)
}

function ratio(value: number | undefined): string {
  return value === undefined ? '' : `${value.toFixed(2)}×`
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
