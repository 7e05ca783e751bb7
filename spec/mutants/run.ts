import { spawn } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { MUTANTS, type Mutant } from './mutants.js'

/**
 * The mutation check (`npm run mutants`): each deliberate mutant of lib/ (mutants.ts) is applied to a
 * scratch copy of the package and the spec files that guard that path are run against it. A mutant
 * that leaves them passing survived: the tests claim something they do not check, and the run fails.
 * The same spec files first run unmutated, so a failure is the mutant's, not the machine's.
 *
 * `npm run mutants -- <name>…` runs only the named mutants.
 */

const ROOT = resolve(import.meta.dirname, '..', '..')
/** Bound of one spec run: a mutant that makes a test hang is killed, which counts as caught. */
const RUN_TIMEOUT_MS = 180_000
/** Bound of the whole check (about 100 s on 2 shared cores): past it the runs left are not made, and the check fails. */
const TOTAL_TIMEOUT_MS = 600_000

interface Run {
  passed: number
  failed: number
  timedOut: boolean
  output: string
}

/** Runs `specs` in `cwd` with node's test runner, killed after `timeoutMs`, and counts what passed and failed. */
function runSpecs(cwd: string, specs: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=20000', '--test-reporter=spec', ...specs],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    )
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', () => {
      clearTimeout(timer)
      const count = (label: string) => Number(new RegExp(`^ℹ ${label} (\\d+)`, 'm').exec(output)?.[1] ?? 0)
      done({ passed: count('pass'), failed: count('fail'), timedOut, output })
    })
  })
}

/** Applies `mutant` to the copy in `dir`; returns the files' texts before it, to put back. */
async function apply(dir: string, mutant: Mutant): Promise<Map<string, string>> {
  const originals = new Map<string, string>()
  for (const { file, from, to } of mutant.edits) {
    const path = join(dir, file)
    const text = await readFile(path, 'utf8')
    if (!originals.has(path)) originals.set(path, text)
    const at = text.indexOf(from)
    if (at === -1 || text.indexOf(from, at + 1) !== -1)
      throw new Error(`mutant "${mutant.name}": ${file} must contain exactly one ${JSON.stringify(from)} (update mutants.ts)`)
    await writeFile(path, text.slice(0, at) + to + text.slice(at + from.length))
  }
  return originals
}

async function main(): Promise<number> {
  const only = process.argv.slice(2)
  const chosen = only.length > 0 ? MUTANTS.filter((m) => only.includes(m.name)) : MUTANTS
  if (chosen.length === 0) throw new Error(`no mutant named ${only.join(', ')}; known: ${MUTANTS.map((m) => m.name).join(', ')}`)
  const dir = await mkdtemp(join(tmpdir(), 'fetch-http-cache-mutants-'))
  const started = performance.now()
  /** What a run may take: its own bound, or what is left of the whole check's. */
  const budget = () => Math.min(RUN_TIMEOUT_MS, TOTAL_TIMEOUT_MS - (performance.now() - started))
  try {
    for (const part of ['lib', 'spec', 'package.json', 'tsconfig.json', 'README.md'])
      await cp(join(ROOT, part), join(dir, part), { recursive: true })
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')

    const specs = [...new Set(chosen.flatMap((m) => m.specs))].sort()
    const baseline = await runSpecs(dir, specs, budget())
    if (baseline.failed > 0 || baseline.timedOut || baseline.passed === 0) {
      process.stdout.write(`${baseline.output}\nThe spec files fail without any mutant: fix them first.\n`)
      return 1
    }
    console.log(`baseline: ${specs.length} spec files, ${baseline.passed} tests pass (${seconds(started)})`)

    const survivors: string[] = []
    for (const mutant of chosen) {
      const t0 = performance.now()
      // A run cut short by the whole check's bound proves nothing: the check fails, naming what was left.
      if (budget() < RUN_TIMEOUT_MS) {
        const left = chosen.slice(chosen.indexOf(mutant)).map((m) => m.name)
        console.log(`FAIL out of time (${TOTAL_TIMEOUT_MS / 1000} s): not run: ${left.join(', ')}`)
        return 1
      }
      const originals = await apply(dir, mutant)
      let run: Run
      try {
        run = await runSpecs(dir, mutant.specs, budget())
      } finally {
        for (const [path, text] of originals) await writeFile(path, text)
      }
      // A mutant that stops the files loading (pass 0) proves nothing about the assertions.
      const caught = run.timedOut || (run.failed > 0 && run.passed > 0)
      const verdict = run.timedOut
        ? 'killed (timed out)'
        : caught
          ? `killed: ${run.failed} failed`
          : run.passed === 0
            ? 'INVALID (no test ran)'
            : 'SURVIVED'
      console.log(`${caught ? 'ok  ' : 'FAIL'} ${mutant.name}: ${verdict} (${seconds(t0)})`)
      if (!caught) {
        survivors.push(mutant.name)
        if (run.passed === 0) process.stdout.write(run.output)
      }
    }
    console.log(`${chosen.length - survivors.length}/${chosen.length} mutants killed in ${seconds(started)}`)
    if (survivors.length > 0) console.log(`survived: ${survivors.join(', ')}`)
    return survivors.length > 0 ? 1 : 0
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`
}

process.exitCode = await main()
