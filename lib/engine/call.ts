import type { CachePlan } from '../policy/actions.js'
import type { CacheRequest } from '../request/cache-request.js'
import type { Engine, KeyedRequest } from './engine.js'
import type { Forward } from './outcome.js'

/** One request the cache takes part in. */
export interface Call {
  engine: Engine
  request: CacheRequest
  keyed: KeyedRequest
  plan: CachePlan
  forward: Forward
  /** A stale-while-revalidate refresh, off the caller's path. */
  background?: true
  /** When the request reached the cache, for `fetch-http-cache:lookup` (0 when nobody watches). */
  started: number
}
