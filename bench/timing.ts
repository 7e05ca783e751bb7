/**
 * Bounded sampling: every loop here stops on a count or on time, whichever comes first, and the
 * result is a median, so a stray GC pause or a busy neighbour moves it little.
 */

/** How long and how often to measure. */
export interface Bounds {
  /** Warm-up (JIT, connection pools, page caches) lasts this long… */
  warmupMs: number
  /** …or this many calls, whichever comes first. */
  warmupCalls: number
  /**
   * One sample runs as many calls as fit in about this long (at least one), so the collections a
   * workload causes are spread over its samples instead of making a few of them outliers.
   */
  sampleMs: number
  /** Keep sampling until this many samples… */
  minSamples: number
  /** …and this long have passed, never more than `maxSamples`, never past `hardMs`. */
  maxMs: number
  maxSamples: number
  hardMs: number
}

/** Bounds of the full run and of `--quick`. */
export const FULL_BOUNDS: Bounds = Object.freeze({
  warmupMs: 300,
  warmupCalls: 5_000,
  sampleMs: 10,
  minSamples: 25,
  maxMs: 2_000,
  maxSamples: 5_000,
  hardMs: 10_000,
})

export const QUICK_BOUNDS: Bounds = Object.freeze({
  warmupMs: 50,
  warmupCalls: 1_000,
  sampleMs: 5,
  minSamples: 7,
  maxMs: 200,
  maxSamples: 500,
  hardMs: 2_000,
})

/** What one measurement came to. Times are per request, in microseconds. */
export interface Timing {
  /** Median of the samples' mean time per request. */
  us: number
  /** Requests per second at the median. */
  rps: number
  /** Interquartile range of the samples, per request. */
  p25: number
  p75: number
  samples: number
  /** Calls made in all (warm-up included), for checking the origin's counters. */
  calls: number
  /**
   * CPU time of this process (user + system) per request over the samples: what a request costs
   * the event loop's thread and its helpers, which a loaded machine moves less than wall time.
   */
  cpu: number
}

/**
 * Times `call` (which makes `requestsPerCall` requests, e.g. 64 at once) under `bounds`. `call`
 * gets a running index, so a workload can walk through many URLs.
 */
export async function measure(call: (index: number) => Promise<unknown>, bounds: Bounds, requestsPerCall = 1): Promise<Timing> {
  let index = 0
  const warmupStart = now()
  const warmupEnd = warmupStart + bounds.warmupMs * 1e6
  while (index < bounds.warmupCalls && now() < warmupEnd) await call(index++)
  const perCall = (now() - warmupStart) / Math.max(index, 1)
  const batch = Math.max(1, Math.min(10_000, Math.round((bounds.sampleMs * 1e6) / Math.max(perCall, 1))))

  const perRequest: number[] = []
  const cpuStart = process.cpuUsage()
  let requests = 0
  const start = now()
  const soft = start + bounds.maxMs * 1e6
  const hard = start + bounds.hardMs * 1e6
  for (;;) {
    const t = now()
    if (perRequest.length >= bounds.maxSamples || t >= hard) break
    if (t >= soft && perRequest.length >= bounds.minSamples) break
    const sampleStart = now()
    for (let i = 0; i < batch; i++) await call(index++)
    perRequest.push((now() - sampleStart) / 1e3 / (batch * requestsPerCall))
    requests += batch * requestsPerCall
  }
  const cpuUsed = process.cpuUsage(cpuStart)
  perRequest.sort((a, b) => a - b)
  const us = quantile(perRequest, 0.5)
  return {
    us,
    rps: 1e6 / us,
    p25: quantile(perRequest, 0.25),
    p75: quantile(perRequest, 0.75),
    samples: perRequest.length,
    calls: index,
    cpu: (cpuUsed.user + cpuUsed.system) / Math.max(requests, 1),
  }
}

/** The `q` quantile of sorted values (linear interpolation). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  const a = sorted[low] as number
  const b = sorted[high] as number
  return a + (b - a) * (at - low)
}

function now(): number {
  return Number(process.hrtime.bigint())
}
