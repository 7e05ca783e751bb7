import { hash } from 'node:crypto'
import { pack } from '../entry/codec.js'
import type { CacheEntry } from '../entry/entry.js'
import type { KeyedEntry } from '../entry/store.js'

/** The Redis commands that write entries (see RedisStore): their arguments, from the entries. */

/** What a write's key and expiry are made from. */
export interface WriteContext {
  prefix: string
  /** How long past its expiry an entry stays on the server, in ms. */
  graceMs: number
  /** Now, in ms since the epoch, on the clock entries' `expires` use. */
  now: number
}

/**
 * Names under the prefix that are not entries (see RedisStore): the shared secret, and the URL index,
 * `{prefix}url-index:{SHA-256 of the URL}`, a set of the keys (prefix included) stored for that URL.
 */
export const SECRET_NAME = 'secret'
const INDEX_PREFIX = 'url-index:'

/** Whether `key` names the secret or an index rather than an entry (a `keyFn` may return anything). */
export function isReserved(key: string): boolean {
  return key === SECRET_NAME || key.startsWith(INDEX_PREFIX)
}

/** The index set of `url`: every key stored for it (see keysForUrl). */
export function indexKey(prefix: string, url: string): string {
  return `${prefix}${INDEX_PREFIX}${hash('sha256', url, 'hex')}`
}

/** Whether a full Redis key is an index set (never an entry, never listed). */
export function isIndexKey(prefix: string, redisKey: string): boolean {
  return redisKey.startsWith(prefix + INDEX_PREFIX)
}

/**
 * Sets each key (KEYS[2i-1]) to its value, with a relative expiry in ms when one is given (`0`: none,
 * `-1`: gone, so the key is removed), and adds it to its URL's index set (KEYS[2i]), which lives as
 * long as the longest-lived key added to it. One script call, so a `Vary` marker and its variant land
 * together with their index. The expiry is passed on as the string it came as (a Lua number could
 * print as `1e+14`). A key whose entry was deleted, or replaced by one for another URL, stays in the
 * set until keysForUrl finds it so.
 */
const SET_ALL = `for i = 1, #KEYS / 2 do
  local key, index = KEYS[2 * i - 1], KEYS[2 * i]
  local value, ttl = ARGV[2 * i - 1], ARGV[2 * i]
  if ttl == '-1' then redis.call('UNLINK', key)
  else
    if ttl == '0' then redis.call('SET', key, value) else redis.call('SET', key, value, 'PX', ttl) end
    local left = redis.call('PTTL', index)
    redis.call('SADD', index, key)
    if ttl == '0' then redis.call('PERSIST', index)
    elseif left ~= -1 and left < tonumber(ttl) then redis.call('PEXPIRE', index, ttl) end
  end
end
return #KEYS / 2`

/** One `EVAL` of SET_ALL writing every entry and its URL index. */
export function scriptArgs(writes: readonly KeyedEntry[], context: WriteContext): (string | Buffer)[] {
  const args: (string | Buffer)[] = ['EVAL', SET_ALL, String(2 * writes.length)]
  for (const { key, entry } of writes) args.push(context.prefix + key, indexKey(context.prefix, entry.url))
  for (const { entry } of writes) args.push(bytes(pack(entry)), String(ttlOf(entry, context)))
  return args
}

/** Ms the entry stays on the server: expiry plus grace from now; 0 for no expiry; -1 when already past. */
function ttlOf(entry: CacheEntry, { graceMs, now }: WriteContext): number {
  if (entry.expires === null) return 0
  const ttl = Math.ceil(entry.expires + graceMs - now)
  return ttl > 0 ? ttl : -1
}

/** A key prefix as a literal in a `SCAN MATCH` glob. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** The packed entry as a Buffer over the same memory (node-redis writes Buffers as raw bytes). */
function bytes(packed: Uint8Array): Buffer {
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
}
