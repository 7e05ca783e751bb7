import { randomBytes } from 'node:crypto'
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CacheEntry, EntryMeta } from '../entry/entry.js'
import type { Store, StoreRecord } from '../entry/store.js'
import { ForeignDirectoryError, InvalidOptionTypeError, InvalidOptionValueError, StoreError } from '../errors.js'
import { fileName, formatEntry, hashOfFile, keyHash, parseEntry } from './files-format.js'

/** Options of {@link FilesStore}. */
export interface FilesStoreOptions {
  /** The directory (created when missing; one that holds other files than a cache's is refused). */
  path: string
}

/** The file that makes a directory a cache directory, with the secret its keys are made with. */
export const MARKER = '.fetch-http-cache.json'
const MARKER_FORMAT = 'fetch-http-cache files'
/** Files being written start so: never listed, never read as entries. */
const TEMP_PREFIX = '.tmp-'
/**
 * A listing is trusted while the directory's mtime stays what it was, unless it was taken this soon
 * after a change: a file another process renames in the same timestamp tick would not move the mtime.
 */
const RACY_MS = 100n

/**
 * A {@link Store} in a directory of readable JSON files, one per stored response (files-format.ts):
 * for fixtures committed beside the tests, reviewed and diffed like code.
 *
 * - Writes are atomic: a temp file in the directory, then a rename over the entry's file. Several
 *   processes can share the directory; a reader sees a whole file, the old one or the new one.
 *   A write that would not change the file's bytes leaves the file alone.
 * - Reading never writes: not a use stamp, and not the deletion of a file it cannot read (the store
 *   contract lets other stores drop those; here they are the user's files, listed as invalid until
 *   `delete({ invalid: true })` or the CLI removes them).
 * - A key is found through its hash in the file name; the names are listed again when the
 *   directory changed (another process wrote), so a lookup costs one `stat` and one read.
 * - The secret that hashes credentials into keys lives in the marker file, so a committed directory
 *   keys the same on every machine.
 */
export class FilesStore implements Store {
  readonly secret: string
  readonly #dir: string
  /** Key hash → file name, from the last listing and this process's writes. */
  readonly #index = new Map<string, string>()
  /** The directory's mtime when it was last listed, when that listing can be trusted. */
  #listedAt: bigint | undefined

  constructor(options: FilesStoreOptions) {
    checkOptions(options)
    this.#dir = resolve(options.path)
    this.secret = openDirectory(this.#dir)
    this.#list()
  }

  /** The directory the entries are in. */
  get path(): string {
    return this.#dir
  }

  /** The entry under `key`, or `undefined` (a file that cannot be read is left in place: it is a miss). */
  get(key: string): CacheEntry | undefined {
    return this.#find(key)?.entry
  }

  /**
   * Writes the entry's file (temp file and rename), unless its bytes would not change. A file under
   * the key that is not JSON (a fixture edited by hand and broken) is never replaced: the write fails
   * with an error naming it, so the edit is fixed rather than lost.
   */
  set(key: string, entry: CacheEntry): void {
    const hash = keyHash(key)
    const name = fileName(key, entry)
    const text = formatEntry({ ...entry, key })
    const previous = this.#index.get(hash)
    const current = previous === undefined ? undefined : this.#read(previous)
    if (previous === name && current === text) return
    if (previous !== undefined && current !== undefined && !isJson(current)) {
      const file = join(this.#dir, previous)
      throw new StoreError(
        `fetch-http-cache: ${file} is not JSON (edited by hand?): left as it is, not replaced; fix it or delete it`,
      )
    }
    this.#write(name, text)
    this.#index.set(hash, name)
    if (previous !== undefined && previous !== name) this.#unlink(previous)
  }

  /**
   * Replaces the metadata of the response under `key` stored at `storedAt` (its `createdAt`, as this
   * store reads it), keeping its body (a 304). Nothing is written when that response is gone or was
   * replaced meanwhile.
   */
  refresh(key: string, meta: EntryMeta, storedAt: number): void {
    const current = this.#find(key)?.entry
    if (current === undefined || current.createdAt !== storedAt) return
    this.set(key, { ...meta, body: current.body })
  }

  /** Deletes the files of `keys` (a key may also be the name of a file that names no key). Unknown keys are ignored. */
  delete(keys: readonly string[]): void {
    let listed = false
    for (const key of keys) {
      const hash = keyHash(key)
      if (!this.#index.has(hash) && !listed) listed = this.#list(true)
      const name = this.#index.get(hash)
      if (name !== undefined) {
        this.#unlink(name)
        this.#index.delete(hash)
      } else if (hashOfFile(key) !== undefined) {
        this.#unlink(key)
      }
    }
  }

  /** Deletes every entry file; the marker (and its secret) stays. */
  clear(): void {
    for (const name of this.#names()) this.#unlink(name)
    this.#index.clear()
  }

  /** Every entry file, by name; one that cannot be read is listed with its key (or its file name). */
  *records(): Generator<StoreRecord, void, undefined> {
    for (const name of this.#names()) {
      const text = this.#read(name)
      if (text === undefined) continue // deleted since the listing
      const { key, entry } = parseEntry(text)
      yield { key: key ?? name, entry }
    }
  }

  /** The keys of every entry file stored for `url` (its `url` exactly): a fixtures directory is small, so read whole. */
  keysForUrl(url: string): string[] {
    const keys: string[] = []
    for (const { key, entry } of this.records()) if (entry?.url === url) keys.push(key)
    return keys
  }

  /** The bytes of the entry files. */
  size(): number {
    let size = 0
    for (const name of this.#names()) {
      try {
        size += statSync(join(this.#dir, name)).size
      } catch {}
    }
    return size
  }

  /** Nothing to release: every write is done when `set` returns. */
  close(): void {}

  /** The file of `key` and what it holds, listing the directory again once if it changed. */
  #find(key: string): { name: string; entry: CacheEntry | undefined } | undefined {
    const hash = keyHash(key)
    for (let attempt = 0; attempt < 2; attempt++) {
      const name = this.#index.get(hash)
      if (name !== undefined) {
        const text = this.#read(name)
        if (text !== undefined) {
          const found = parseEntry(text)
          // A key hash shared by two keys (2^-48) is a miss for the other key, never its entry.
          return found.key === key ? { name, entry: found.entry } : undefined
        }
        this.#index.delete(hash) // deleted by another process: it may have been written under another name
      }
      if (!this.#list()) return undefined
    }
    return undefined
  }

  /** Lists the entry files again, unless the directory is unchanged since a trusted listing; whether it listed. */
  #list(force = false): boolean {
    let mtime: bigint
    try {
      mtime = statSync(this.#dir, { bigint: true }).mtimeNs
    } catch (error) {
      throw storeError(`cannot read the cache directory ${this.#dir}`, error)
    }
    if (!force && mtime === this.#listedAt) return false
    const names = this.#names()
    this.#index.clear()
    for (const name of names) this.#index.set(hashOfFile(name) as string, name)
    const now = BigInt(Date.now()) * 1_000_000n
    this.#listedAt = now - mtime > RACY_MS * 1_000_000n ? mtime : undefined
    return true
  }

  /** The entry files' names, sorted. */
  #names(): string[] {
    let names: string[]
    try {
      names = readdirSync(this.#dir)
    } catch (error) {
      throw storeError(`cannot list the cache directory ${this.#dir}`, error)
    }
    return names.filter((name) => hashOfFile(name) !== undefined).sort()
  }

  /** A file's text, or `undefined` when it is not there. */
  #read(name: string): string | undefined {
    try {
      return readFileSync(join(this.#dir, name), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw storeError(`cannot read ${join(this.#dir, name)}`, error)
    }
  }

  #write(name: string, text: string): void {
    const temp = join(this.#dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`)
    try {
      writeFileSync(temp, text, { flag: 'wx' })
      renameSync(temp, join(this.#dir, name))
    } catch (error) {
      try {
        unlinkSync(temp)
      } catch {}
      throw storeError(`cannot write ${join(this.#dir, name)}`, error)
    }
  }

  #unlink(name: string): void {
    try {
      unlinkSync(join(this.#dir, name))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError(`cannot delete ${join(this.#dir, name)}`, error)
    }
  }
}

/**
 * Makes `dir` a cache directory, or finds it is one; returns its secret (`secret` when this call made
 * the marker: stores/lazy.ts creates the directory under the secret its keys were already made with).
 * A directory with files in it and no marker is someone else's: refused, never written to. The marker
 * is created with a link, which fails when another process created it first (then its secret is used).
 */
export function openDirectory(dir: string, secret = randomBytes(32).toString('hex')): string {
  try {
    mkdirSync(dir, { recursive: true })
  } catch (error) {
    throw storeError(`cannot create the cache directory ${dir}`, error)
  }
  const marker = join(dir, MARKER)
  const existing = readMarker(dir, marker)
  if (existing !== undefined) return existing
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    throw storeError(`cannot list ${dir}`, error)
  }
  if (names.includes(MARKER)) {
    // Another process made it a cache since (and may have written entries already).
    const made = readMarker(dir, marker)
    if (made !== undefined) return made
  }
  const other = names.find((name) => name !== MARKER && !name.startsWith(TEMP_PREFIX))
  if (other !== undefined) throw new ForeignDirectoryError(dir, other)
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    writeFileSync(temp, `${JSON.stringify({ format: MARKER_FORMAT, version: 1, secret }, null, 2)}\n`, { flag: 'wx' })
    linkSync(temp, marker)
    return secret
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError(`cannot create ${marker}`, error)
    return readMarker(dir, marker) ?? secret // created by another process meanwhile
  } finally {
    try {
      unlinkSync(temp)
    } catch {}
  }
}

/** The secret in the marker, or `undefined` when there is no marker. A marker that is not ours is refused. */
function readMarker(dir: string, marker: string): string | undefined {
  let text: string
  try {
    text = readFileSync(marker, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw storeError(`cannot read ${marker}`, error)
  }
  let parsed: { format?: unknown; secret?: unknown } | undefined
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch {}
  if (parsed?.format !== MARKER_FORMAT || typeof parsed.secret !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.secret)) {
    throw new ForeignDirectoryError(dir, MARKER)
  }
  return parsed.secret
}

function storeError(message: string, cause: unknown): StoreError {
  return new StoreError(`fetch-http-cache: ${message}: ${(cause as Error).message}`, { cause })
}

/** Validates `new FilesStore(options)`: typed errors naming the option and the value. */
function checkOptions(options: FilesStoreOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionTypeError('options', options, 'an object')
  for (const name of Object.keys(options)) {
    if (name !== 'path') {
      const value = (options as unknown as Record<string, unknown>)[name]
      throw new InvalidOptionValueError(name, value, 'is not an option of FilesStore')
    }
  }
  const { path } = options
  if (typeof path !== 'string') throw new InvalidOptionTypeError('path', path, 'a string')
  if (path === '') throw new InvalidOptionValueError('path', path, 'must not be empty')
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
