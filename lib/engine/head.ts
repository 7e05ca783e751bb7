import type { CacheEntry } from '../entry/entry.js'
import type { CachePlan } from '../policy/actions.js'
import { mergeHead } from '../policy/stored-headers.js'
import { decideWrite } from '../policy/write.js'
import type { Engine } from './engine.js'

/**
 * RFC 9111 §4.3.5: a 200 to HEAD, for a request the stored GET response answers, updates that stored
 * response's header fields and freshness when its validators match, and makes it stale when they show
 * the representation changed. Both fronts call this; the store's failures are reported, never thrown.
 */
export async function freshenFromHead(
  engine: Engine,
  plan: CachePlan,
  entry: CacheEntry,
  head: Headers,
  requestTime: number,
  responseTime: number,
): Promise<void> {
  const merged = mergeHead(entry, head, requestTime, responseTime)
  if (merged.invalidate) {
    await engine.update({ ...entry, expires: Math.min(entry.expires ?? responseTime, responseTime) }, entry.createdAt)
    return
  }
  const facts = { status: entry.status, headers: new Headers(merged.entry.headers), requestTime, responseTime }
  const decision = decideWrite(plan, facts, engine.settings, responseTime)
  await engine.update(
    { ...merged.entry, createdAt: responseTime, expires: decision.store ? decision.expires : responseTime },
    entry.createdAt,
  )
}
