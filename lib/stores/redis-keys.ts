import { unpack } from '../entry/codec.js'
import type { StoreRecord } from '../entry/store.js'
import type { RedisClientLike } from '../options/redis.js'
import { BINARY, classify, send } from './redis-client.js'
import { escapeGlob, indexKey, isIndexKey, SECRET_NAME } from './redis-commands.js'

/**
 * The Redis store's reads over many keys (see RedisStore): walking the prefix with `SCAN` for
 * inspection, and reading a URL's index set for invalidation. Failures throw typed `StoreError`s.
 */

/** The server and keyspace a walk reads. */
export interface Keyspace {
  client: RedisClientLike
  prefix: string
  commandTimeout: number
}

/** Keys asked for per SCAN call, and values read per batch. */
const SCAN_COUNT = 200

/** Deletes every entry and index under the prefix (the secret stays), a `SCAN` batch at a time. */
export async function clearKeyspace(space: Keyspace): Promise<void> {
  for await (const batch of scan(space, 'clearing', true)) {
    await guard('clearing', () => unlink(space, batch))
  }
}

/** Every entry under the prefix, read in batches as `SCAN` finds them; each key once. */
export async function* recordsOf(space: Keyspace): AsyncGenerator<StoreRecord, void, undefined> {
  const { client, prefix, commandTimeout } = space
  for await (const batch of scan(space, 'listing entries')) {
    const values = await guard('listing entries', () =>
      Promise.all(batch.map((key) => notAString(send(client, ['GET', key], commandTimeout, BINARY), FOREIGN))),
    )
    for (const [i, value] of values.entries()) {
      const key = (batch[i] as string).slice(prefix.length)
      // Another kind of value under the prefix (a hash, a list): not an entry, listed as invalid.
      if (value === FOREIGN) yield { key, entry: undefined }
      else if (value instanceof Uint8Array) yield { key, entry: unpack(value) }
      // else deleted or expired since SCAN saw it
    }
  }
}

/** The packed bytes of every entry under the prefix (`STRLEN`, without reading the values). */
export async function sizeOf(space: Keyspace): Promise<number> {
  const { client, commandTimeout } = space
  let size = 0
  for await (const batch of scan(space, 'reading the size')) {
    const lengths = await guard('reading the size', () =>
      Promise.all(batch.map((key) => notAString(send(client, ['STRLEN', key], commandTimeout), 0))),
    )
    for (const length of lengths) size += Number(length)
  }
  return size
}

/**
 * The keys of every entry stored for `url` (its `url` exactly), from the URL's index set. Members
 * whose entry is gone, or now answers another URL (a `keyFn` key), are dropped from the set.
 */
export function keysStoredFor(space: Keyspace, url: string): Promise<string[]> {
  const { client, prefix, commandTimeout } = space
  const index = indexKey(prefix, url)
  return guard('finding a URL', async () => {
    const members = (await send(client, ['SMEMBERS', index], commandTimeout)) as string[]
    const values = await Promise.all(
      members.map((member) => notAString(send(client, ['GET', member], commandTimeout, BINARY), FOREIGN)),
    )
    const keys: string[] = []
    const gone: string[] = []
    for (const [i, value] of values.entries()) {
      const member = members[i] as string
      if (value instanceof Uint8Array && unpack(value)?.url === url) keys.push(member.slice(prefix.length))
      else gone.push(member)
    }
    if (gone.length > 0) await send(client, ['SREM', index, ...gone], commandTimeout)
    return keys
  })
}

/** Deletes `keys` (full Redis keys), one `UNLINK` each, in parallel. */
export function unlink({ client, commandTimeout }: Keyspace, keys: readonly string[]): Promise<unknown> {
  return Promise.all(keys.map((key) => send(client, ['UNLINK', key], commandTimeout)))
}

/**
 * The keys under the prefix but the secret (and the URL indexes unless asked for), a batch per `SCAN`
 * call, each once. Keys of another cache whose prefix extends this one (`app:v2:` under `app:`) are
 * not this cache's: they are left out.
 */
async function* scan(space: Keyspace, doing: string, indexes = false): AsyncGenerator<string[], void, undefined> {
  const { prefix } = space
  const secret = prefix + SECRET_NAME
  const nested = await nestedPrefixes(space, doing)
  const seen = new Set<string>()
  for await (const keys of scanMatching(space, `${escapeGlob(prefix)}*`, doing)) {
    const batch = keys.filter(
      (key) =>
        key !== secret &&
        !seen.has(key) &&
        (indexes || !isIndexKey(prefix, key)) &&
        !nested.some((other) => key.startsWith(other)),
    )
    for (const key of batch) seen.add(key)
    if (batch.length > 0) yield batch
  }
}

/**
 * The prefixes of other caches under this one's, found by their secrets (`{prefix}secret`, 64 hex
 * digits: an entry under a `keyFn` key ending in "secret" holds packed bytes instead).
 */
async function nestedPrefixes(space: Keyspace, doing: string): Promise<string[]> {
  const { client, prefix, commandTimeout } = space
  const own = prefix + SECRET_NAME
  const found: string[] = []
  for await (const keys of scanMatching(space, `${escapeGlob(prefix)}*${SECRET_NAME}`, doing)) {
    for (const key of keys) {
      if (key === own) continue
      const value = await guard(doing, () => notAString(send(client, ['GET', key], commandTimeout), FOREIGN))
      if (typeof value === 'string' && SECRET_VALUE.test(value)) found.push(key.slice(0, -SECRET_NAME.length))
    }
  }
  return found
}

/** What a secret holds (redis.ts writes `randomBytes(32)` as hex). */
const SECRET_VALUE = /^[0-9a-f]{64}$/

/** The keys matching a `SCAN MATCH` pattern, a batch per call (a key may come twice). */
async function* scanMatching(space: Keyspace, pattern: string, doing: string): AsyncGenerator<string[], void, undefined> {
  const { client, commandTimeout } = space
  let cursor = '0'
  do {
    const reply = await guard(doing, () =>
      send(client, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(SCAN_COUNT)], commandTimeout),
    )
    const [next, keys] = reply as [string, string[]]
    cursor = next
    if (keys.length > 0) yield keys
  } while (cursor !== '0')
}

/** Runs commands, throwing their failures as typed errors. */
async function guard<T>(doing: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw classify(error, doing)
  }
}

/** Stands for a key under the prefix that holds another type than a string (never one of ours). */
const FOREIGN = Symbol('foreign')

/** `reply`, or `instead` where Redis answers WRONGTYPE: the key holds another type than a string. */
function notAString<T, U>(reply: Promise<T>, instead: U): Promise<T | U> {
  return reply.catch((error: unknown) => {
    if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return instead
    throw error
  })
}
