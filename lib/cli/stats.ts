import { statSync } from 'node:fs'
import type { Cache } from '../inspect/cache.js'

/** What a command prints: text for people, JSON for scripts. */
export interface Output {
  text: string
  json: unknown
}

/** The bytes a SQLite file takes on disk: the database and its WAL and shared-memory files. */
export interface DiskUsage {
  total: number
  db: number
  wal: number
  shm: number
}

/**
 * Measures the file before the CLI opens it: opening creates `-wal` and `-shm` files (and closing
 * folds them back), so a later measure would describe the CLI's own visit.
 */
export function diskUsage(path: string): DiskUsage {
  const db = fileSize(path)
  const wal = fileSize(`${path}-wal`)
  const shm = fileSize(`${path}-shm`)
  return { total: db + wal + shm, db, wal, shm }
}

/** What `stats` describes: a SQLite file (its size on disk measured before opening), a files directory or a Redis server's prefix. */
export type StatsTarget =
  | { kind: 'file'; path: string; disk: DiskUsage }
  | { kind: 'directory'; path: string }
  | { kind: 'redis'; server: string; prefix: string }

/** Counts what the cache holds; `now` dates the ages shown. */
export async function stats(target: StatsTarget, cache: Cache, now: number): Promise<Output> {
  let fresh = 0
  let expired = 0
  let invalid = 0
  let bodyBytes = 0
  let oldest: Date | undefined
  let newest: Date | undefined
  const urls = new Set<string>()
  for await (const item of cache.filter({ invalid: true })) {
    if (item.invalid) {
      invalid++
      continue
    }
    if (item.isExpired) expired++
    else fresh++
    bodyBytes += item.size
    urls.add(item.url)
    if (oldest === undefined || item.createdAt < oldest) oldest = item.createdAt
    if (newest === undefined || item.createdAt > newest) newest = item.createdAt
  }
  const size = await cache.size()
  const counts = {
    responses: fresh + expired,
    fresh,
    expired,
    invalid,
    urls: urls.size,
    /** Bytes in the stored entries (bodies and metadata), as SQLite's `maxSize` counts them. */
    size,
    bodyBytes,
  }
  const dates = { oldest: oldest?.toISOString() ?? null, newest: newest?.toISOString() ?? null }
  const counted: [string, string][] = [
    ['Responses', `${fresh + expired} (${fresh} fresh, ${expired} expired)`],
    ['Unreadable', `${invalid}${invalid ? ` (remove with: fetch-http-cache delete --invalid ${targetOptions(target)})` : ''}`],
    ['URLs', String(urls.size)],
  ]
  const stored = `${humanBytes(size)} (${size} bytes): the entries' bodies and metadata`
  const bodies = `(bodies: ${humanBytes(bodyBytes)})`
  const ages: [string, string][] = [
    ['Oldest', oldest ? `${oldest.toISOString()} (${age(now - oldest.getTime())})` : '-'],
    ['Newest', newest ? `${newest.toISOString()} (${age(now - newest.getTime())})` : '-'],
  ]
  let rows: [string, string][]
  let json: Record<string, unknown>
  if (target.kind === 'file') {
    const { disk } = target
    rows = [
      ['File', target.path],
      ...counted,
      ['Stored size', `${stored}, which maxSize limits ${bodies}`],
      [
        'On disk',
        `${humanBytes(disk.total)} (${disk.total} bytes): database ${humanBytes(disk.db)}, -wal ${humanBytes(disk.wal)}, -shm ${humanBytes(disk.shm)}`,
      ],
      ...ages,
    ]
    /** `disk`: the file's size on disk. */
    json = { file: target.path, ...counts, disk, ...dates }
  } else if (target.kind === 'directory') {
    rows = [['Directory', target.path], ...counted, ['Stored size', `${stored} ${bodies}`], ...ages]
    json = { directory: target.path, ...counts, ...dates }
  } else {
    // The server's maxmemory bounds a Redis cache, and its memory is the server's to report: neither is said here.
    rows = [['Server', target.server], ['Prefix', target.prefix], ...counted, ['Stored size', `${stored} ${bodies}`], ...ages]
    json = { server: target.server, prefix: target.prefix, ...counts, ...dates }
  }
  return { text: rows.map(([label, value]) => `${label.padEnd(12)} ${value}\n`).join(''), json }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0 // no -wal or -shm: the last connection closed cleanly
  }
}

/** `46312` → `45.2 KiB`. */
function humanBytes(count: number): string {
  if (count < 1024) return `${count} B`
  let value = count
  let unit = 'B'
  for (const next of ['KiB', 'MiB', 'GiB', 'TiB']) {
    if (value < 1024) break
    value /= 1024
    unit = next
  }
  return `${value.toFixed(1)} ${unit}`
}

/**
 * `5_400_000` → `1 h ago`: the largest whole unit. A negative age (an entry dated ahead of this
 * clock: another machine's, or an injected one) → `in 5 s`.
 */
function age(ms: number): string {
  const seconds = Math.floor(Math.abs(ms) / 1000)
  let amount = `${seconds} s`
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
  ] as const) {
    if (seconds >= size) {
      amount = `${Math.floor(seconds / size)} ${unit}`
      break
    }
  }
  return ms < 0 && seconds > 0 ? `in ${amount}` : `${amount} ago`
}

/** The options that name `target` on a command line (the Redis URL without its password), quoted for a shell. */
function targetOptions(target: StatsTarget): string {
  if (target.kind === 'file') return `--db ${shellWord(target.path)}`
  if (target.kind === 'directory') return `--dir ${shellWord(target.path)}`
  return `--redis ${shellWord(target.server)} --prefix ${shellWord(target.prefix)}`
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`
}
