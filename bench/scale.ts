/**
 * SQLite hit latency as the file grows: does a hit at 1,000,000 entries cost what it costs at
 * 10,000? `fillStore` writes realistic entries straight through `SqliteStore.set` (a copy of a real
 * stored response under other keys and URLs), with a hot set stored through the cached fetch spread
 * evenly among them; `measureScale` then times hits over the hot set in a fresh process.
 */
import { createHash } from 'node:crypto'
import { stat } from 'node:fs/promises'
import type { CacheEntry } from '../lib/index.js'
import { type Check, check } from './checks.js'
import { installSqlite } from './contenders/fetch-http-cache.js'
import { originCounts, SMALL_BODY } from './origin-counts.js'
import { pkg } from './package.js'
import { type Bounds, measure, type Timing } from './timing.js'

const { cacheInfo, installCache, NEVER_EXPIRE, SqliteStore, uninstallCache } = pkg

/** The hot set: URLs `/hit/0` … `/hit/<HOT - 1>`, stored through the cached fetch. */
export const HOT = 1_000
const STRIDE = 7_919

export interface FillOutcome {
  entries: number
  seconds: number
  fileBytes: number
}

export interface ScaleOutcome {
  timing: Timing
  fileBytes: number
  checks: Check[]
}

/** Creates `path` with `entries` entries, the hot set among them. */
export async function fillStore(path: string, entries: number, origin: string): Promise<FillOutcome> {
  const started = performance.now()
  const store = new SqliteStore({ path })
  installCache({ backend: store })
  try {
    const every = Math.floor(entries / HOT)
    let template: CacheEntry | undefined
    let hot = 0
    for (let i = 0; i < entries; i++) {
      if (i % every === 0 && hot < HOT) {
        const response = await fetch(`${origin}/hit/${hot++}`)
        const size = (await response.arrayBuffer()).byteLength
        if (size !== SMALL_BODY) throw new Error(`read ${size} bytes, expected ${SMALL_BODY}`)
        const key = cacheInfo(response)?.cacheKey
        template ??= key === undefined ? undefined : store.get(key)
        if (!template) throw new Error('the first hot response was not stored')
      } else if (template) {
        store.set(fillerKey(i), filler(template, origin, i))
        // A bulk load commits as it goes: writes accepted faster than they commit would pile up.
        if (i % 4096 === 0) await store.flush()
      }
    }
    await store.flush()
    const seconds = (performance.now() - started) / 1000
    // Every row, readable or not; metadata only, so no body is read.
    let stored = 0
    for await (const _ of store.metaRecords()) stored++
    return { entries: stored, seconds, fileBytes: await fileBytes(path) }
  } finally {
    uninstallCache()
    store.close()
  }
}

/** Times hits spread over the hot set of a file `fillStore` made. */
export async function measureScale(path: string, origin: string, dir: string, bounds: Bounds): Promise<ScaleOutcome> {
  const client = await installSqlite.open({ dir, sqlitePath: path, expireAfter: NEVER_EXPIRE, capacity: HOT })
  try {
    const timing = await measure((i) => client.get(`${origin}/hit/${(i * STRIDE) % HOT}`), bounds)
    const counts = await originCounts(origin)
    return { timing, fileBytes: await fileBytes(path), checks: [check('origin requests (all hits)', 0, counts.requests)] }
  } finally {
    await client.close()
  }
}

function fillerKey(i: number): string {
  return createHash('sha256').update(`filler ${i}`).digest('hex')
}

/** The template response as if fetched from another URL. */
function filler(template: CacheEntry, origin: string, i: number): CacheEntry {
  const url = `${origin}/filler/${i}`
  return {
    ...template,
    key: fillerKey(i),
    url,
    responseUrl: url,
    headers: template.headers.map(([name, value]) => [name, name === 'etag' ? `"f${i}"` : value]),
  }
}

async function fileBytes(path: string): Promise<number> {
  let total = 0
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += (await stat(path + suffix)).size
    } catch {}
  }
  return total
}
