import { statSync } from 'node:fs'
import type { Cache } from '../inspect/cache.js'

/** What `stats` prints: text for people, JSON for scripts. */
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

/** Counts what the cache holds. `disk` is from {@link diskUsage} (none for Redis); `now` dates the ages shown. */
export async function stats(file: string, cache: Cache, disk: DiskUsage | undefined, now: number): Promise<Output> {
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
  const json = {
    file,
    responses: fresh + expired,
    fresh,
    expired,
    invalid,
    urls: urls.size,
    /** Bytes in the stored entries (bodies and metadata), as `maxSize` counts them. */
    size,
    bodyBytes,
    /** The file's size on disk. */
    disk: disk ?? null,
    oldest: oldest?.toISOString() ?? null,
    newest: newest?.toISOString() ?? null,
  }
  const rows: [string, string][] = [
    ['File', file],
    ['Responses', `${fresh + expired} (${fresh} fresh, ${expired} expired)`],
    ['Unreadable', `${invalid}${invalid ? ' (remove with: fetch-http-cache delete --invalid)' : ''}`],
    ['URLs', String(urls.size)],
    [
      'Stored size',
      `${humanBytes(size)} (${size} bytes): the entries' bodies and metadata, which maxSize limits (bodies: ${humanBytes(bodyBytes)})`,
    ],
    [
      'On disk',
      disk
        ? `${humanBytes(disk.total)} (${disk.total} bytes): database ${humanBytes(disk.db)}, -wal ${humanBytes(disk.wal)}, -shm ${humanBytes(disk.shm)}`
        : '-',
    ],
    ['Oldest', oldest ? `${oldest.toISOString()} (${age(now - oldest.getTime())})` : '-'],
    ['Newest', newest ? `${newest.toISOString()} (${age(now - newest.getTime())})` : '-'],
  ]
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
export function humanBytes(count: number): string {
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

/** `5_400_000` → `1 h ago`: the largest whole unit. */
function age(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
  ] as const) {
    if (seconds >= size) return `${Math.floor(seconds / size)} ${unit} ago`
  }
  return `${seconds} s ago`
}
