/**
 * CPU profile of fetch-http-cache's hit path (or another workload) through the patched global fetch:
 *
 *   npx tsx bench/profile.ts [--store memory|sqlite] [--workload hit|hit-10k|miss-store|revalidate-304] [--seconds 5]
 *
 * Runs the loop in a child process and records it with V8's CPU profiler (what `node --cpu-prof`
 * uses), started through the inspector after the warm-up so start-up and loading stay out of it;
 * the origin runs in a process of its own. Prints where the time went (`profile-summary.ts`) and
 * writes the `.cpuprofile`, which Chrome DevTools or speedscope open.
 */
import { fork } from 'node:child_process'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { pkg } from './package.js'
import { runtime, startOrigin } from './processes.js'
import { summarize } from './profile-summary.js'

const { EXPIRE_IMMEDIATELY, installCache, NEVER_EXPIRE, uninstallCache } = pkg

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'memory' },
    workload: { type: 'string', default: 'hit' },
    seconds: { type: 'string', default: '5' },
    origin: { type: 'string' },
  },
})
const DIR = fileURLToPath(new URL('../.bench/profiles/', import.meta.url))
const SELF = fileURLToPath(import.meta.url)

/** The URL of the `i`-th request of a workload. */
function target(origin: string, workload: string, i: number): string {
  switch (workload) {
    case 'hit':
      return `${origin}/hit/0`
    case 'hit-10k':
      return `${origin}/hit/${(i * 7_919) % 10_000}`
    case 'miss-store':
      return `${origin}/miss/profile-${process.pid}-${i}`
    case 'revalidate-304':
      return `${origin}/etag/0`
    default:
      throw new Error(`unknown workload ${workload}`)
  }
}

/** The profiled child: warm up, then loop for `seconds` (at most 5 million requests). */
async function loop(origin: string): Promise<void> {
  const { store, workload } = values
  if (store !== 'memory' && store !== 'sqlite') throw new Error(`--store must be memory or sqlite, not ${store}`)
  const cacheName = join(DIR, `profile-${process.pid}.sqlite`)
  installCache({
    backend: store,
    // Each store's own options: the other store refuses them.
    ...(store === 'sqlite' ? { cacheName } : { maxEntries: 20_000 }),
    expireAfter: workload === 'revalidate-304' ? EXPIRE_IMMEDIATELY : NEVER_EXPIRE,
  })
  const get = async (i: number) => (await fetch(target(origin, workload, i))).arrayBuffer()
  const warm = workload === 'hit-10k' ? 10_000 : 1
  for (let i = 0; i < warm; i++) await get(i)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const start = performance.now()
  const end = start + Number(values.seconds) * 1000
  let i = 0
  while (i < 5_000_000 && performance.now() < end) await get(warm + i++)
  const elapsed = performance.now() - start
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  await writeFile(
    join(DIR, `${workload}-${store}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`),
    JSON.stringify({ ...profile, requests: i }),
  )
  process.stderr.write(
    `${workload}, ${store} store: ${i.toLocaleString('en-US')} requests, ${((elapsed * 1000) / i).toFixed(2)} µs each\n`,
  )
  uninstallCache()
  await new Promise((resolve) => setImmediate(resolve))
  for (const suffix of ['', '-wal', '-shm']) await rm(cacheName + suffix, { force: true })
}

async function main(): Promise<void> {
  await mkdir(DIR, { recursive: true })
  const env = runtime(undefined, undefined)
  const origin = await startOrigin(env)
  try {
    const before = new Set(await readdir(DIR))
    const child = fork(SELF, [...process.argv.slice(2), '--origin', origin.url], {
      execArgv: env.execArgv,
      stdio: 'inherit',
    })
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    if (code !== 0) throw new Error(`the profiled process exited with ${code}`)
    const made = (await readdir(DIR)).filter((name) => name.endsWith('.cpuprofile') && !before.has(name))
    for (const name of made) {
      const path = join(DIR, name)
      process.stdout.write(`${await summarize(path)}\n${path}\n`)
    }
  } finally {
    await origin.stop()
  }
}

if (values.origin) await loop(values.origin)
else await main()
