import type { Contender } from './contender.js'
import { builtinFetch } from './fetch.js'
import { installMemory, installRedis, installSqlite, installUndiciRequest, sessionMemory } from './fetch-http-cache.js'
import { mapLimit } from './map.js'
import { undiciCacheFetch, undiciCacheRequest, undiciCacheSqlite } from './undici-cache.js'
import { undiciRequest } from './undici-request.js'

/** Every contender, in table order: the baseline and the limit first. */
export const CONTENDERS: readonly Contender[] = [
  builtinFetch,
  mapLimit,
  installMemory,
  installSqlite,
  installRedis,
  sessionMemory,
  installUndiciRequest,
  undiciCacheFetch,
  undiciCacheSqlite,
  undiciCacheRequest,
  undiciRequest,
]

/** The contender called `name` (throws for an unknown one). */
export function contender(name: string): Contender {
  const found = CONTENDERS.find((c) => c.name === name)
  if (!found) throw new Error(`unknown contender ${name}; known: ${CONTENDERS.map((c) => c.name).join(', ')}`)
  return found
}
