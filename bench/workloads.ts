/**
 * The timed workloads. Each one warms its URLs, measures with `measure()` and then checks from the
 * origin's counters that the requests really went where they should (served from the cache, or
 * revalidated every time), so a fast number can never come from a broken cache.
 */
import { EXPIRE_IMMEDIATELY, NEVER_EXPIRE } from '../lib/index.js'
import { type Check, check } from './checks.js'
import type { Client, Contender } from './contenders/contender.js'
import { BIG_BODY, originCounts, SMALL_BODY } from './origin-counts.js'
import { pool } from './pool.js'
import { type Bounds, measure, type Timing } from './timing.js'

/** What a workload runs against. The origin's counters are zero when it starts. */
export interface WorkloadContext {
  client: Client
  contender: Contender
  /** `http://127.0.0.1:<port>` */
  origin: string
  bounds: Bounds
  quick: boolean
  /** Unique per job, for URLs that must never have been seen. */
  runId: string
}

export interface WorkloadOutcome {
  timing: Timing
  checks: Check[]
}

export interface Workload {
  name: string
  title: string
  /** fetch-http-cache's `expireAfter` for this workload. */
  expireAfter: number
  /** Whether the workload means anything for `contender`. */
  applies(contender: Contender): boolean
  run(context: WorkloadContext): Promise<WorkloadOutcome>
}

/** Room for every workload's entries, so no cache evicts during a measurement (except cold misses). */
export const CAPACITY = 20_000
/** A step through the URL list that visits each once per round (prime, so coprime to 1,000 and 10,000). */
const STRIDE = 7_919

const always = () => true

/** Fails the job when a body came back with the wrong size: a fast wrong answer is no answer. */
function expectBytes(expected: number, actual: number, url: string): void {
  if (actual !== expected) throw new Error(`${url}: read ${actual} bytes, expected ${expected}`)
}

async function getChecked(client: Client, url: string, size: number): Promise<void> {
  expectBytes(size, await client.get(url), url)
}

/** The origin requests a workload expects: one per URL for a cache, one per request without. */
function originCheck(contender: Contender, urls: number, requests: number, actual: number): Check {
  return contender.caches
    ? check('origin requests (one per URL, the rest hits)', urls, actual)
    : check('origin requests (every request)', requests, actual)
}

const hit: Workload = {
  name: 'hit',
  title: 'warm hit, one URL (1 KiB)',
  expireAfter: NEVER_EXPIRE,
  applies: always,
  async run({ client, contender, origin, bounds }) {
    const url = `${origin}/hit/0`
    await getChecked(client, url, SMALL_BODY)
    const timing = await measure(() => client.get(url), bounds)
    const counts = await originCounts(origin)
    return { timing, checks: [originCheck(contender, 1, timing.calls + 1, counts.hit)] }
  },
}

const hitSpread: Workload = {
  name: 'hit-10k',
  title: 'hits spread over 10,000 URLs (1 KiB)',
  expireAfter: NEVER_EXPIRE,
  applies: always,
  async run({ client, contender, origin, bounds, quick }) {
    // --quick spreads over 1,000 URLs: storing 10,000 first takes longer than the whole quick budget.
    const count = quick ? 1_000 : 10_000
    const url = (i: number) => `${origin}/hit/${i}`
    await pool(count, 8, (i) => getChecked(client, url(i), SMALL_BODY))
    const timing = await measure((i) => client.get(url((i * STRIDE) % count)), bounds)
    const counts = await originCounts(origin)
    return { timing, checks: [originCheck(contender, count, count + timing.calls, counts.hit)] }
  },
}

const inFlight: Workload = {
  name: 'inflight-64',
  title: '64 requests in flight (hits on 64 URLs)',
  expireAfter: NEVER_EXPIRE,
  applies: always,
  async run({ client, contender, origin, bounds }) {
    const urls = Array.from({ length: 64 }, (_, i) => `${origin}/hit/${i}`)
    for (const url of urls) await getChecked(client, url, SMALL_BODY)
    const timing = await measure(() => Promise.all(urls.map((url) => client.get(url))), bounds, urls.length)
    const counts = await originCounts(origin)
    return { timing, checks: [originCheck(contender, urls.length, urls.length * (1 + timing.calls), counts.hit)] }
  },
}

const missStore: Workload = {
  name: 'miss-store',
  title: 'cold miss + store (1 KiB)',
  expireAfter: NEVER_EXPIRE,
  applies: always,
  async run({ client, contender, origin, bounds, runId }) {
    const url = (i: number) => `${origin}/miss/${runId}-${i}`
    const timing = await measure((i) => client.get(url(i)), bounds)
    const checks = [check('origin requests (every request is new)', timing.calls, (await originCounts(origin)).miss)]
    if (contender.caches) {
      // The last URLs missed must now be stored: asking again reaches the origin no more.
      const last = Array.from({ length: 16 }, (_, i) => url(timing.calls - 1 - i))
      for (const again of last) await getChecked(client, again, SMALL_BODY)
      const after = (await originCounts(origin)).miss
      checks.push(check('origin requests when asking the last 16 again (stored)', 0, after - timing.calls))
    }
    return { timing, checks }
  },
}

const revalidate: Workload = {
  name: 'revalidate-304',
  title: 'revalidation answered by 304 (ETag, 1 KiB)',
  expireAfter: EXPIRE_IMMEDIATELY,
  applies: (contender) => contender.revalidates || !contender.caches,
  async run({ client, contender, origin, bounds }) {
    const url = `${origin}/etag/0`
    await getChecked(client, url, SMALL_BODY)
    const timing = await measure(() => client.get(url), bounds)
    const counts = await originCounts(origin)
    if (!contender.caches) return { timing, checks: [check('origin 200s (every request)', timing.calls + 1, counts.etagFull)] }
    return {
      timing,
      checks: [
        check('origin 200s (the first request only)', 1, counts.etagFull),
        check('origin 304s (every later request revalidated)', timing.calls, counts.etagNotModified),
      ],
    }
  },
}

const bigHit: Workload = {
  name: 'hit-1mib',
  title: 'warm hit, 1 MiB body',
  expireAfter: NEVER_EXPIRE,
  applies: always,
  async run({ client, contender, origin, bounds }) {
    const url = `${origin}/big`
    await getChecked(client, url, BIG_BODY)
    const timing = await measure(() => client.get(url), bounds)
    const counts = await originCounts(origin)
    return { timing, checks: [originCheck(contender, 1, timing.calls + 1, counts.big)] }
  },
}

/** Every timed workload, in table order. */
export const WORKLOADS: readonly Workload[] = [hit, hitSpread, inFlight, missStore, revalidate, bigHit]

/** The workload called `name` (throws for an unknown one). */
export function workload(name: string): Workload {
  const found = WORKLOADS.find((w) => w.name === name)
  if (!found) throw new Error(`unknown workload ${name}; known: ${WORKLOADS.map((w) => w.name).join(', ')}`)
  return found
}
