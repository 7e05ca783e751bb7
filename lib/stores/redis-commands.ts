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
 * Sets each key to its value, with a relative expiry in ms when one is given (`0`: none, `-1`: gone,
 * so the key is removed). One script call, so a `Vary` marker and its variant land together. The
 * expiry is passed on as the string it came as (a Lua number could print as `1e+14`).
 */
const SET_ALL = `for i, key in ipairs(KEYS) do
  local ttl = ARGV[2 * i]
  if ttl == '0' then redis.call('SET', key, ARGV[2 * i - 1])
  elseif ttl == '-1' then redis.call('UNLINK', key)
  else redis.call('SET', key, ARGV[2 * i - 1], 'PX', ttl) end
end
return #KEYS`

/** `SET key packed [PX ttl]`, or `UNLINK key` for an entry already past its grace period. */
export function setArgs({ key, entry }: KeyedEntry, context: WriteContext): (string | Buffer)[] {
  const ttl = ttlOf(entry, context)
  const redisKey = context.prefix + key
  if (ttl < 0) return ['UNLINK', redisKey]
  const set = ['SET', redisKey, bytes(pack(entry))]
  return ttl === 0 ? set : [...set, 'PX', String(ttl)]
}

/** One `EVAL` of SET_ALL writing every entry. */
export function scriptArgs(writes: readonly KeyedEntry[], context: WriteContext): (string | Buffer)[] {
  const args: (string | Buffer)[] = ['EVAL', SET_ALL, String(writes.length)]
  for (const { key } of writes) args.push(context.prefix + key)
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
