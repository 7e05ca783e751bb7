/**
 * One of several processes sharing one files cache directory (spec/stores/files.test.ts). Each opens
 * the directory at once (the marker race), writes and deletes keys of its own (so it knows what must
 * be there), reads the others' and one key every worker writes, and reports what it saw. Every entry
 * carries a tag (worker, key, version) in its URL, a header and its body, so a torn file shows.
 */
import { pathToFileURL } from 'node:url'
import type { CacheEntry } from '../../../lib/entry/entry.js'
import { FilesStore } from '../../../lib/stores/files.js'
import { workerReady, workerResult } from '../../helpers/children.js'
import { makeEntry } from '../../helpers/entries.js'
import { Prng } from '../../helpers/prng.js'

export interface FilesWorkerConfig {
  path: string
  id: number
  workers: number
  ops: number
  keys: number
  seed: number
}

export interface FilesWorkerResult {
  id: number
  secret: string
  errors: string[]
  violations: string[]
  /** The last acknowledged version of each of this worker's keys; 0 when deleted. */
  state: Record<string, number>
}

export const SHARED_KEY = 'shared'

export function keyOf(worker: number, n: number): string {
  return `w${worker}-k${n}`
}

/** The tag an entry carries, or how its parts disagree. */
export function entryTag(entry: CacheEntry): string {
  const fromUrl = new URL(entry.url).searchParams.get('tag') ?? ''
  const fromHeader = entry.headers.find(([name]) => name === 'x-tag')?.[1] ?? ''
  const fromBody = Buffer.from(entry.body).toString('latin1').split('|')[0] ?? ''
  return fromUrl === fromHeader && fromUrl === fromBody ? fromUrl : `torn(${fromUrl}|${fromHeader}|${fromBody})`
}

function tagged(key: string, tag: string, size: number): CacheEntry {
  return makeEntry({
    key,
    url: `https://example.com/${key}?tag=${encodeURIComponent(tag)}`,
    responseUrl: `https://example.com/${key}`,
    headers: [
      ['content-type', 'text/plain'],
      ['x-tag', tag],
    ],
    body: new TextEncoder().encode(`${tag}|${'.'.repeat(size)}`),
  })
}

async function main(config: FilesWorkerConfig): Promise<void> {
  await workerReady()
  const errors: string[] = []
  const violations: string[] = []
  const state: Record<string, number> = {}
  const store = new FilesStore({ path: config.path })
  const random = new Prng(config.seed + config.id)
  const attempt = (what: string, fn: () => void) => {
    try {
      fn()
    } catch (error) {
      errors.push(`${what}: ${(error as Error).message}`)
    }
  }
  for (let i = 0; i < config.ops; i++) {
    if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve))
    const roll = random.float()
    const key = keyOf(config.id, random.int(config.keys))
    if (roll < 0.35) {
      const version = (state[key] ?? 0) + 1
      attempt('set', () => {
        store.set(key, tagged(key, `${key}@${version}`, random.range(10, 4000)))
        state[key] = version
      })
    } else if (roll < 0.6) {
      attempt('get', () => {
        const found = store.get(key)
        const version = state[key] ?? 0
        const expected = version === 0 ? undefined : `${key}@${version}`
        const seen = found && entryTag(found)
        if (seen !== expected) violations.push(`${key}: read ${seen}, expected ${expected}`)
      })
    } else if (roll < 0.75) {
      const other = keyOf(random.int(config.workers), random.int(config.keys))
      attempt('get-other', () => {
        const found = store.get(other)
        if (found && !entryTag(found).startsWith(`${other}@`)) violations.push(`${other}: ${entryTag(found)}`)
      })
    } else if (roll < 0.85) {
      attempt('shared', () => {
        if (random.chance(0.5))
          store.set(SHARED_KEY, tagged(SHARED_KEY, `${SHARED_KEY}@w${config.id}-${i}`, random.range(10, 4000)))
        const found = store.get(SHARED_KEY)
        if (found && !entryTag(found).startsWith(`${SHARED_KEY}@`)) violations.push(`${SHARED_KEY}: ${entryTag(found)}`)
      })
    } else if (roll < 0.95) {
      attempt('delete', () => {
        store.delete([key])
        if (state[key] !== undefined) state[key] = 0
      })
    } else {
      attempt('records', () => {
        for (const { key: listed, entry } of store.records()) {
          if (entry === undefined) violations.push(`${listed}: unreadable in a listing`)
          else if (entryTag(entry).startsWith('torn')) violations.push(`${listed}: ${entryTag(entry)}`)
        }
      })
    }
  }
  const result: FilesWorkerResult = { id: config.id, secret: store.secret, errors, violations, state }
  workerResult(result)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(JSON.parse(process.argv[2] ?? '{}') as FilesWorkerConfig)
}
