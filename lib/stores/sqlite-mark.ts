import type Database from 'better-sqlite3'

/**
 * Whose SQLite file is it? A cache file is ours to write, migrate or reset only when it carries our
 * mark: SQLite's `application_id` header field (set on every file we create), or, for files made
 * before the mark existed, our schema. A database of anything else (an app's own `journal.sqlite`,
 * say) is refused before any write or pragma that changes it (lib/README.md, "Stores and entries").
 */

/** The `application_id` of a fetch-http-cache file: "FHC1" in ASCII. */
export const APPLICATION_ID = 0x46484331

/** The schema versions this package ever wrote (`PRAGMA user_version`), before the mark existed. */
const UNMARKED_VERSIONS = new Set([1, 2])
/** Columns every version of our `entries` table had. */
const ENTRY_COLUMNS = ['key', 'url', 'meta', 'size', 'created_at', 'expires_at', 'accessed_at']

export type Ownership =
  /** No schema at all: a file just created (by this process or another one starting at once). */
  | { kind: 'empty' }
  /** Ours; `marked` false for a file written before the mark existed (stamp it). */
  | { kind: 'ours'; marked: boolean; version: number }
  | { kind: 'foreign'; reason: string }

/**
 * Reads (never writes) what the open database `db` is. Throws only what SQLite throws (SQLITE_NOTADB...).
 * The reads are one transaction: another process creating the schema meanwhile (many processes opening
 * one new file at once) must not be seen half-way, without its mark but with its tables.
 */
export function ownership(db: Database.Database): Ownership {
  return db.transaction(() => read(db))()
}

function read(db: Database.Database): Ownership {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const version = db.pragma('user_version', { simple: true }) as number
  if (applicationId === APPLICATION_ID) return { kind: 'ours', marked: true, version }
  if (applicationId !== 0) {
    return { kind: 'foreign', reason: `its application_id is 0x${(applicationId >>> 0).toString(16)}, not fetch-http-cache's` }
  }
  const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()
  const objects = db.prepare<[], number>('SELECT COUNT(*) FROM sqlite_master').pluck().get() ?? 0
  if (objects === 0 && version === 0) return { kind: 'empty' }
  if (UNMARKED_VERSIONS.has(version) && hasOurSchema(db, tables)) return { kind: 'ours', marked: false, version }
  const names = tables.length === 0 ? 'no tables' : `tables ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`
  return { kind: 'foreign', reason: `it has ${names}, user_version ${version} and no fetch-http-cache mark` }
}

/** Our `entries` and `meta` tables, with the secret and the size total only we write into `meta`. */
function hasOurSchema(db: Database.Database, tables: readonly string[]): boolean {
  if (!tables.includes('entries') || !tables.includes('meta')) return false
  try {
    const columns = new Set(db.prepare<[], string>("SELECT name FROM pragma_table_info('entries')").pluck().all())
    if (!ENTRY_COLUMNS.every((column) => columns.has(column))) return false
    const marks = db.prepare<[], number>("SELECT COUNT(*) FROM meta WHERE name IN ('secret', 'total_size')").pluck().get()
    return marks === 2
  } catch {
    return false // a `meta` table of another shape
  }
}
