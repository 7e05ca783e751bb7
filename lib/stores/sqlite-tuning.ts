/** The tuning of SqliteStore: its defaults, page sizes, commit batching and retry pauses. */

export const DEFAULT_BUSY_TIMEOUT = 5000
/** A hit records its use (for LRU pruning) at most this often, so the hit path rarely writes. */
export const TOUCH_INTERVAL = 60_000
/** Bounds of the decoded entries kept for repeated hits (see RecentEntries). */
export const RECENT_ENTRIES = 16_384
export const RECENT_BYTES = 32 * 1024 * 1024
export const RECORDS_PAGE = 100
/** Metadata rows are small: a page of them reads in well under a millisecond. */
export const META_PAGE = 500
/** Pauses between attempts at a commit that met another connection's lock: doubling from the first to the last. */
export const RETRY_FIRST_MS = 2
export const RETRY_LAST_MS = 100
/**
 * While the file stays locked, pending writes pile up in memory; past these bounds a new entry is not
 * kept (its key is deleted instead, so it does not serve an older response), and that is reported once.
 */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024
export const MAX_PENDING_WRITES = 50_000
/**
 * How long accepted writes wait before they are committed, so that the writes of several requests
 * share one transaction (a commit costs more than the rows it writes). Other processes see a write
 * this much later; this process reads it at once.
 */
export const COMMIT_DELAY_MS = 10
/**
 * What one transaction commits at most: a few milliseconds of work. Past it the rest commits on the
 * next turns of the event loop, so a backlog (writes that waited for another process's lock) never
 * blocks the loop in one piece. (4 MiB of large bodies held the loop 100-240 ms on a loaded machine.)
 */
export const BATCH_WRITES = 128
export const BATCH_BYTES = 1024 * 1024
