import type { FetchCacheErrorCode } from '../errors.js'

/** Exit statuses: done, failed at run time (or declined), command line not understood (or not confirmed). */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2 })

/** The stable codes of the CLI's own errors, as `--json` prints them (`{"error": {"code", "message"}}`). */
export type CliErrorCode =
  /** The command line cannot be run as written. */
  | 'USAGE'
  /** A delete would remove every entry and there is no terminal to ask on: `--yes` is needed. */
  | 'CONFIRMATION_REQUIRED'
  /** A delete of every entry was declined at the prompt. */
  | 'NOT_CONFIRMED'
  /** No file at the `--db` path. */
  | 'NO_CACHE_FILE'
  /** The path is a directory or another kind of non-file. */
  | 'NOT_A_FILE'
  /** The file is not a SQLite database. */
  | 'NOT_SQLITE'
  /** A SQLite database, but not a fetch-http-cache file of this schema. */
  | 'NOT_A_CACHE_FILE'
  /** The file exists but cannot be read or opened. */
  | 'CANNOT_OPEN'
  /** No directory at the `--dir` path. */
  | 'NO_CACHE_DIRECTORY'
  /** The `--dir` path is not a directory. */
  | 'NOT_A_DIRECTORY'
  /** A directory, but not a fetch-http-cache one (no marker file). */
  | 'NOT_A_CACHE_DIRECTORY'
  /** The `--har` file cannot be read, or is not a HAR 1.2 log. */
  | 'BAD_HAR'

/** An error the CLI reports as one line (or one JSON object) and an exit status, without a stack. */
export class CliError extends Error {
  override name = 'CliError'
  readonly code: CliErrorCode | FetchCacheErrorCode
  readonly exitStatus: number

  constructor(code: CliErrorCode | FetchCacheErrorCode, message: string, exitStatus: number, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.exitStatus = exitStatus
  }
}

/** A command line the CLI cannot run as written; exit status 2. */
export class UsageError extends CliError {
  override name = 'UsageError'

  constructor(message: string, code: 'USAGE' | 'CONFIRMATION_REQUIRED' = 'USAGE') {
    super(code, message, EXIT.usage)
  }
}

/** The cache file cannot be worked on (missing, not SQLite, not ours); exit status 1. */
export class CacheFileError extends CliError {
  override name = 'CacheFileError'

  constructor(code: Exclude<CliErrorCode, 'USAGE' | 'CONFIRMATION_REQUIRED' | 'NOT_CONFIRMED'>, message: string) {
    super(code, message, EXIT.failure)
  }
}

/**
 * A store's failure, said where it happened (the Redis server and the cause); exit status 1. Keeps
 * the store error's code (`FETCH_HTTP_CACHE_STORE_UNAVAILABLE`…), which `--json` prints.
 */
export class StoreFailure extends CliError {
  override name = 'StoreFailure'

  constructor(code: FetchCacheErrorCode, message: string, cause: unknown) {
    super(code, message, EXIT.failure, { cause })
  }
}
