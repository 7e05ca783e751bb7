import { randomBytes } from 'node:crypto'
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { capabilities } from '../../../lib/entry/store.js'
import { cacheInfo, createCachedFetch } from '../../../lib/index.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { startOrigin } from '../../helpers/origin.js'

/**
 * A cache whose SQLite file lives on `dir`, a small file system of its own (the parent mounts a
 * size-limited tmpfs there), which it then fills: SQLite's commits fail with SQLITE_FULL for real.
 * Reports what the caller saw, what `cacheInfo().stored` said, and what onError heard.
 */

/** What one request gave the caller. */
export interface Answer {
  status: number
  /** The body is the origin's, whole. */
  intact: boolean
  fromCache: boolean | undefined
  stored: boolean | undefined
}

export interface FullDiskResult {
  before: Answer
  /** Bytes the filler file took before the file system was full. */
  filled: number
  full: Answer
  fullErrors: { name: string; code: string | undefined; message: string }[]
  oldEntry: Answer
  freed: Answer
  hit: Answer
  origin: { small: number; big: number }
  /** `PRAGMA integrity_check` of the file after it all. */
  integrity: string
}

const [dir] = process.argv.slice(2)
if (!dir) throw new Error('usage: full-disk-worker <dir on a small file system>')

/** Larger than the room left once the disk is filled (and than the WAL's reusable pages), smaller than the disk. */
const BIG = randomBytes(256 * 1024).toString('base64')
const origin = await startOrigin({ '/big': (_req, res) => void res.end(BIG) })
const errors: FullDiskResult['fullErrors'] = []
const cachedFetch = createCachedFetch({
  cacheName: join(dir, 'cache'),
  onError: (error) => errors.push({ name: error.name, code: (error.cause as { code?: string })?.code, message: error.message }),
})

/** One request, its body read; then whether the cache says it stored it, once it knows, and the commit. */
async function get(path: string): Promise<Answer> {
  const response = await cachedFetch(origin.url + path)
  const body = await response.text()
  const info = cacheInfo(response)
  const stored = await info?.stored
  await capabilities(cachedFetch.cache.store).flush?.flush()
  return {
    status: response.status,
    intact: body === (path === '/big' ? BIG : `hello ${path}`),
    fromCache: info?.fromCache,
    stored,
  }
}

await workerReady()
const before = await get('/small')
// Fill the file system (bounded: it holds 1 MiB).
const filler = join(dir, 'filler')
const fd = openSync(filler, 'w')
const chunk = Buffer.alloc(16 * 1024)
let filled = 0
try {
  for (let i = 0; i < 1000; i++) filled += writeSync(fd, chunk)
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
}
closeSync(fd)
const full = await get('/big')
const fullErrors = errors.splice(0)
const oldEntry = await get('/small')
rmSync(filler)
const freed = await get('/big')
const hit = await get('/big')
await cachedFetch.cache.close()
await origin.close()
const db = new Database(join(dir, 'cache.sqlite'), { readonly: true })
const integrity = String(db.pragma('integrity_check', { simple: true }))
db.close()
workerResult({
  before,
  filled,
  full,
  fullErrors: [...fullErrors, ...errors],
  oldEntry,
  freed,
  hit,
  origin: { small: origin.count('/small'), big: origin.count('/big') },
  integrity,
} satisfies FullDiskResult)
