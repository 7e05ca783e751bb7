import { CacheMissError } from '../errors.js'
import { editDistance } from '../options/suggest.js'
import { normalizeUrl, redactUrl } from '../request/key.js'
import type { Engine } from './engine.js'

/** `onlyIfCached: 'throw'` and the store cannot answer: the request rejects, and is never sent. */
export async function offline(engine: Engine, request: { method: string; url: string }, reason: string): Promise<never> {
  throw await cacheMiss(engine, request.method, request.url, reason)
}

/**
 * The error of a request `onlyIfCached: 'throw'` cannot answer from the store: it names the method
 * and the URL (ignored parameters redacted, as stored) and, when a stored URL is close (a typo, a
 * changed id or query), that one. Finding it reads the store's metadata once: replay directories
 * are small, and the test that misses fails anyway.
 */
async function cacheMiss(engine: Engine, method: string, url: string, reason: string): Promise<CacheMissError> {
  const ignored = engine.settings.ignored
  const credentials = engine.urlCredentials()
  let shown = url
  let wanted = url
  try {
    shown = redactUrl(url, ignored, credentials)
    wanted = normalizeUrl(url, ignored, credentials)
  } catch {}
  let nearest: string | undefined
  try {
    nearest = nearestUrl(wanted, await engine.storedUrls())
  } catch (error) {
    engine.report(error, 'read')
  }
  return new CacheMissError(method, shown, reason, nearest === wanted ? undefined : nearest)
}

/**
 * The stored URL with the fewest edits from `wanted`, when those are few: at most a quarter of its
 * length (and at least 3), so an unrelated URL of another host is never suggested.
 */
function nearestUrl(wanted: string, stored: Iterable<string>): string | undefined {
  const allowed = Math.max(3, Math.floor(wanted.length / 4))
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const candidate of stored) {
    const distance = editDistance(wanted, candidate, bestDistance)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}
