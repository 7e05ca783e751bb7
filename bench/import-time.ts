/**
 * What importing the package costs a process, and what opening a SQLite store adds (better-sqlite3 is
 * loaded only then: lib/README.md, "Stores and entries"). Each case is a fresh `node` process running
 * the built package (`dist/`, built first when missing); its wall time is compared with an empty
 * `node` started in the same run, cases alternating, the median of the rounds reported.
 * Run: `npx tsx bench/import-time.ts [--rounds N]`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const dist = join(root, 'dist', 'index.js')
const roundsAt = process.argv.indexOf('--rounds')
const rounds = Math.min(50, Math.max(3, roundsAt === -1 ? 15 : Number(process.argv[roundsAt + 1]) || 15))

if (!existsSync(dist)) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' })
const dir = mkdtempSync(join(tmpdir(), 'fetch-http-cache-import-'))

/** Whether better-sqlite3 is loaded, printed by each case after its work. */
const LOADED = `const { createRequire } = await import('node:module');
const loaded = Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('better-sqlite3'));
console.log(loaded ? 'better-sqlite3 loaded' : 'better-sqlite3 not loaded');`

const cases: { name: string; code: string }[] = [
  { name: 'node, nothing imported (baseline)', code: 'console.log("-")' },
  { name: 'import the package', code: `await import(${JSON.stringify(dist)}); ${LOADED}` },
  {
    name: 'import + a memory cache',
    code: `const { createCachedFetch } = await import(${JSON.stringify(dist)}); const f = createCachedFetch({ backend: 'memory' }); await f.cache.close(); ${LOADED}`,
  },
  {
    name: 'import + a SQLite cache opened',
    code: `const { createCachedFetch } = await import(${JSON.stringify(dist)}); const f = createCachedFetch({ cacheName: ${JSON.stringify(join(dir, 'c'))} }); await f.cache.close(); ${LOADED}`,
  },
]

const times = new Map<string, number[]>(cases.map(({ name }) => [name, []]))
const said = new Map<string, string>()
try {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...cases].reverse() : cases
    for (const { name, code } of order) {
      const start = process.hrtime.bigint()
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 })
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (run.status !== 0) throw new Error(`${name} failed: ${run.stderr}`)
      times.get(name)?.push(ms)
      said.set(name, run.stdout.trim())
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
const baseline = median(times.get(cases[0]?.name ?? '') ?? [])
console.log(`Node ${process.version}, ${rounds} rounds, median wall time of a fresh process\n`)
console.log('| case | median | over the baseline | |')
console.log('| --- | --: | --: | --- |')
for (const { name } of cases) {
  const value = median(times.get(name) ?? [])
  const over = name === cases[0]?.name ? '' : `+${(value - baseline).toFixed(1)} ms`
  console.log(`| ${name} | ${value.toFixed(1)} ms | ${over} | ${said.get(name) === '-' ? '' : said.get(name)} |`)
}
