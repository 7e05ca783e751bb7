/** What every contender offers the workloads: a way to GET a URL and read its body to the end. */

/** How a workload wants the contender's cache set up. */
export interface ClientOptions {
  /** A temp directory the contender may write to (removed after the job). */
  dir: string
  /** fetch-http-cache's `expireAfter` for this workload (other caches follow the origin's headers). */
  expireAfter: number
  /** How many entries the cache must hold without evicting. */
  capacity: number
  /** A SQLite file to use instead of a new one in `dir` (the scale workload). */
  sqlitePath?: string
}

/** The Redis server the run started for the Redis contender (`run.ts` passes it to every job). */
export function benchRedisUrl(): string {
  const url = process.env.BENCH_REDIS_URL
  if (!url) throw new Error('BENCH_REDIS_URL is not set: the Redis contender runs under `npm run bench` only')
  return url
}

/** One contender, opened. */
export interface Client {
  /** GETs `url` and reads the whole body; resolves to the number of body bytes. */
  get(url: string): Promise<number>
  /** Releases the cache (for a SQLite store: closes the file, which checkpoints the WAL). */
  close(): Promise<void>
}

/**
 * - `baseline`: what every ratio is taken against (built-in fetch, no cache).
 * - `limit`: the least work a fetch-shaped hit can do.
 * - `subject`: fetch-http-cache.
 * - `reference`: other caches and clients, for comparison.
 */
export type Role = 'baseline' | 'limit' | 'subject' | 'reference'

export interface Contender {
  name: string
  description: string
  role: Role
  /** Whether it caches at all (and so whether the origin counters should stay still on hits). */
  caches: boolean
  /** Whether it revalidates stored responses with a conditional request. */
  revalidates: boolean
  /** Where its entries live, for the footprint measurement (none for a server's). */
  keeps: 'nothing' | 'heap' | 'disk' | 'server'
  /** Whether it loads better-sqlite3 (so `--skip-sqlite` leaves it out). */
  sqlite: boolean
  /** Whether it needs the run's Redis server (left out with `--skip-redis` or without redis-server). */
  redis?: boolean
  open(options: ClientOptions): Promise<Client>
}

/** Reads a fetch `Response` body to the end. */
export async function drain(response: Response): Promise<number> {
  return (await response.arrayBuffer()).byteLength
}
