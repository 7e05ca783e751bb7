/**
 * What a cached entry costs to keep: heap (JS heap plus the ArrayBuffers and other memory V8
 * counts as external) and resident memory (RSS) per 1 KiB entry for the in-memory caches, bytes on
 * disk per entry for SQLite.
 * Needs `--expose-gc` (the parent passes it to footprint jobs only).
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { NEVER_EXPIRE } from '../lib/index.js'
import { type Check, check } from './checks.js'
import type { Contender } from './contenders/contender.js'
import { originCounts, resetOrigin, SMALL_BODY } from './origin-counts.js'
import { pool } from './pool.js'

export interface Footprint {
  entries: number
  /** JS heap bytes per entry (`heapUsed`). */
  heapPerEntry: number
  /** Memory outside the JS heap per entry (`external`, which includes ArrayBuffers). */
  externalPerEntry: number
  /** Resident set size per entry (`rss`): what the process holds of the machine's memory, allocator slack included. */
  rssPerEntry: number
  /** Bytes of the SQLite file (after closing, so the WAL is checkpointed) per entry. */
  diskPerEntry: number | undefined
  checks: Check[]
}

/** Entries stored for the measurement, and before it to load every code path. */
const ENTRIES = { full: 20_000, quick: 1_000 }
const WARM_UP = 64

export async function measureFootprint(contender: Contender, origin: string, dir: string, quick: boolean): Promise<Footprint> {
  const entries = quick ? ENTRIES.quick : ENTRIES.full
  const client = await contender.open({ dir, expireAfter: NEVER_EXPIRE, capacity: entries + WARM_UP })
  // Compiled code and pools must be in place before the first reading, so only entries are counted.
  for (let i = 0; i < WARM_UP; i++) await client.get(`${origin}/miss/warm-${i}`)
  await resetOrigin(origin)
  const before = await settledMemory()
  await pool(entries, 8, async (i) => {
    const size = await client.get(`${origin}/hit/${i}`)
    if (size !== SMALL_BODY) throw new Error(`read ${size} bytes, expected ${SMALL_BODY}`)
  })
  const after = await settledMemory()
  const checks = [check('origin requests (one per entry)', entries, (await originCounts(origin)).hit)]
  await client.close()
  const diskPerEntry = contender.keeps === 'disk' ? (await directoryBytes(dir)) / (entries + WARM_UP) : undefined
  return {
    entries,
    heapPerEntry: (after.heapUsed - before.heapUsed) / entries,
    externalPerEntry: (after.external - before.external) / entries,
    rssPerEntry: (after.rss - before.rss) / entries,
    diskPerEntry,
    checks,
  }
}

/** Memory after collecting until nothing more is freed (bounded: at most 10 rounds). */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('footprint needs node --expose-gc')
  let last = Number.POSITIVE_INFINITY
  for (let round = 0; round < 10; round++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    const used = process.memoryUsage().heapUsed
    if (used >= last - 1024) break
    last = used
  }
  return process.memoryUsage()
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}
