/**
 * One of several processes hammering one SQLite cache file through SqliteStore (spec/reliability/
 * processes.test.ts). It writes only keys of its own, so it knows exactly what must be there, reads
 * its own and the others' keys, deletes, reads the size and, with `maxSize`, triggers size pruning.
 * Every entry carries a tag (worker, key, version) in its URL, a header and its body, so a reader
 * can tell a torn or stale entry from the one acknowledged.
 */
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import type { CacheEntry } from '../../../lib/entry/entry.js'
import { SqliteStore } from '../../../lib/stores/sqlite.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { makeEntry } from '../../helpers/entries.js'
import { Prng } from '../../helpers/prng.js'

export interface StoreWorkerConfig {
  path: string
  id: number
  workers: number
  ops: number
  /** Distinct keys per worker. */
  keys: number
  seed: number
  maxSize?: number
}

/** The last acknowledged state of one of this worker's keys. */
export type KeyState = { version: number; durable: boolean } | { deleted: true }

export interface StoreWorkerResult {
  id: number
  /** Errors any store call threw: the test expects none. */
  errors: string[]
  /** Reads that saw something other than the acknowledged state. */
  violations: string[]
  counts: Record<string, number>
  /** Final state of every key this worker touched. */
  state: Record<string, KeyState>
  ms: number
}

export function keyOf(worker: number, n: number): string {
  return `w${worker}-k${n}`
}

export function tagOf(key: string, version: number): string {
  return `${key}@${version}`
}

/** The tag an entry carries, or a description of how its parts disagree (a torn entry). */
export function entryTag(entry: CacheEntry): string {
  const fromUrl = new URL(entry.url).searchParams.get('tag') ?? ''
  const fromHeader = entry.headers.find(([name]) => name === 'x-tag')?.[1] ?? ''
  const fromBody = Buffer.from(entry.body.subarray(0, fromUrl.length)).toString('latin1')
  return fromUrl === fromHeader && fromUrl === fromBody ? fromUrl : `torn(${fromUrl}|${fromHeader}|${fromBody})`
}

function makeTagged(key: string, version: number, durable: boolean, size: number, now: number): CacheEntry {
  const tag = tagOf(key, version)
  const body = Buffer.alloc(Math.max(size, tag.length), 0x2e)
  body.write(tag, 0, 'latin1')
  return makeEntry({
    key,
    url: `https://example.com/item?tag=${encodeURIComponent(tag)}`,
    headers: [
      ['content-type', 'application/octet-stream'],
      ['x-tag', tag],
    ],
    body,
    createdAt: now,
    // Ephemeral entries are already expired: a cache may drop them, so the checks require only durable ones.
    expires: durable ? null : now - 1000,
  })
}

/** integrity_check, and the trigger-kept size total beside the rows' real sum. */
export function inspectFile(path: string): { integrity: string; total: number; sum: number; rows: number } {
  const db = new Database(path, { readonly: true })
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      total: db.prepare("SELECT value FROM meta WHERE name = 'total_size'").pluck().get() as number,
      sum: db.prepare('SELECT COALESCE(SUM(size), 0) FROM entries').pluck().get() as number,
      rows: db.prepare('SELECT COUNT(*) FROM entries').pluck().get() as number,
    }
  } finally {
    db.close()
  }
}

/** What the file holds after the workers, key by key, against what each acknowledged. */
export interface FinalCheck {
  problems: string[]
  /** Keys whose last write was durable (no expiry) and not deleted, found with that write. */
  durableFound: number
  /** Keys last written (not deleted), and how many are still there. */
  written: number
  present: number
}

/**
 * Reads back every key the workers touched. Without `maxSize`, every acknowledged durable write must
 * be there with its last version; with it, a key may have been pruned, but what is there is always
 * the last version acknowledged, whole. A deleted key is never there.
 */
export function checkFinalState(path: string, results: readonly StoreWorkerResult[], bounded: boolean): FinalCheck {
  const store = new SqliteStore({ path })
  const check: FinalCheck = { problems: [], durableFound: 0, written: 0, present: 0 }
  try {
    for (const result of results) {
      for (const [key, known] of Object.entries(result.state)) {
        const found = store.get(key)
        if ('deleted' in known) {
          if (found) check.problems.push(`${key} was deleted, found ${entryTag(found)}`)
          continue
        }
        check.written++
        const expected = tagOf(key, known.version)
        if (found) {
          check.present++
          if (entryTag(found) !== expected) check.problems.push(`${key}: found ${entryTag(found)}, acknowledged ${expected}`)
          else if (known.durable) check.durableFound++
        } else if (known.durable && !bounded) {
          check.problems.push(`${key}: acknowledged ${expected} is missing`)
        }
      }
    }
  } finally {
    store.close()
  }
  return check
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] as string) as StoreWorkerConfig
  const errors: string[] = []
  const store = new SqliteStore({
    path: config.path,
    ...(config.maxSize !== undefined ? { maxSize: config.maxSize } : {}),
    onError: (error) => errors.push(`onError: ${error.message}`),
  })
  const random = new Prng(config.seed)
  const violations: string[] = []
  const counts: Record<string, number> = {}
  const state = new Map<string, KeyState>()
  const versions = new Map<string, number>()
  const bounded = config.maxSize !== undefined
  const count = (op: string) => {
    counts[op] = (counts[op] ?? 0) + 1
  }
  const attempt = async (op: string, fn: () => void | Promise<void>) => {
    count(op)
    try {
      await fn()
    } catch (error) {
      errors.push(`${op}: ${(error as Error).message}`)
    }
  }

  await workerReady()
  const started = performance.now()
  for (let i = 0; i < config.ops; i++) {
    // Writes commit behind the caller, on a later turn of the loop: give them turns, as a server would.
    if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve))
    const roll = random.float()
    const key = keyOf(config.id, random.int(config.keys))
    if (roll < 0.4) {
      const version = (versions.get(key) ?? 0) + 1
      const durable = random.chance(0.8)
      const entry = makeTagged(key, version, durable, random.range(64, 3000), Date.now())
      await attempt('set', () => {
        store.set(key, entry)
        // Acknowledged: set returned.
        versions.set(key, version)
        state.set(key, { version, durable })
      })
    } else if (roll < 0.7) {
      await attempt('get', () => {
        const found = store.get(key)
        const known = state.get(key)
        const tag = found && entryTag(found)
        if (known === undefined || 'deleted' in known) {
          if (found) violations.push(`${key}: read ${tag}, expected nothing`)
        } else if (found) {
          if (tag !== tagOf(key, known.version)) violations.push(`${key}: read ${tag}, expected ${tagOf(key, known.version)}`)
        } else if (known.durable && !bounded) {
          violations.push(`${key}: missing, expected ${tagOf(key, known.version)}`)
        }
      })
    } else if (roll < 0.8) {
      const other = keyOf(random.int(config.workers), random.int(config.keys))
      await attempt('get-other', () => {
        const found = store.get(other)
        if (found && entryTag(found).startsWith('torn')) violations.push(`${other}: ${entryTag(found)}`)
      })
    } else if (roll < 0.925) {
      const keys = [key, keyOf(config.id, random.int(config.keys))]
      await attempt('delete', () => {
        store.delete(keys)
        for (const k of keys) if (versions.has(k)) state.set(k, { deleted: true })
      })
    } else {
      await attempt('size', async () => {
        if ((await store.size()) < 0) violations.push('negative size')
      })
    }
  }
  const ms = performance.now() - started
  await store.close()
  const result: StoreWorkerResult = { id: config.id, errors, violations, counts, state: Object.fromEntries(state), ms }
  workerResult(result)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
