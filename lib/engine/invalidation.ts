import { redactUrl } from '../request/key.js'
import { debug, type Engine, isSafeMethod, type RequestTarget } from './engine.js'

/**
 * RFC 9111 §4.4: a successful (2xx, 3xx) response to an unsafe method invalidates its target URI and
 * its same-origin `Location` / `Content-Location`: every GET and HEAD response stored for them,
 * whichever request it answered (every credential partition, every `Vary` variant), and those in
 * flight for them (InFlight.invalidate). Never throws.
 */
export async function invalidateAfter(
  engine: Engine,
  request: RequestTarget,
  status: number,
  responseHeaders: Headers,
): Promise<void> {
  if (isSafeMethod(request.method) || status < 200 || status >= 400) return
  const urls = targets(request.url, responseHeaders)
  const { ignored } = engine.settings
  const credentials = engine.urlCredentials()
  let own: string[]
  let stored: string[]
  try {
    // The sender's own keys, and the anonymous ones, find those responses whatever the order of the
    // query; the others are found by the URL as entries hold it (Engine.save).
    own = urls.flatMap((url) =>
      ['GET', 'HEAD'].flatMap((method) => [
        engine.keyFor(method, url, request.headers, ''),
        engine.keyFor(method, url, new Headers(), ''),
      ]),
    )
    stored = urls.map((url) => redactUrl(url, ignored, credentials))
    engine.inFlight.invalidate(
      urls.map((url) => engine.normalizedUrl(url)),
      (url) => engine.normalizedUrl(url),
    )
  } catch (error) {
    engine.report(error, 'key')
    return
  }
  if (debug.enabled) debug('invalidate %s after %s', urls.map((url) => engine.redact(url)).join(', '), request.method)
  let found: string[] = []
  try {
    found = await keysStoredFor(engine, new Set(stored))
  } catch (error) {
    engine.report(error, 'read')
  }
  await engine.remove([...new Set([...own, ...found])], 'invalidated', urls)
}

/** The request URL, and its same-origin `Location` / `Content-Location`. */
function targets(url: string, responseHeaders: Headers): string[] {
  const origin = new URL(url).origin
  const urls = [url]
  for (const name of ['location', 'content-location']) {
    const value = responseHeaders.get(name)
    if (!value) continue
    try {
      const target = new URL(value, url)
      if (target.origin === origin) urls.push(target.href)
    } catch {
      // An unparsable Location invalidates nothing.
    }
  }
  return urls
}

/**
 * The keys of every GET and HEAD row stored for one of `urls` (as entries hold them): through the
 * store's URL index when it has one (every built-in store), else by reading every row's metadata
 * where the store keeps it apart. A store with neither (a custom one) finds none: there the sender's
 * partition and the anonymous one are invalidated, other credentials' responses expire in their time.
 */
async function keysStoredFor(engine: Engine, urls: ReadonlySet<string>): Promise<string[]> {
  const { metadata, urls: indexed } = engine.capabilities
  const keys: string[] = []
  if (indexed) {
    for (const url of urls) {
      for (const key of await indexed.keysForUrl(url)) {
        const meta = metadata ? (await metadata.getMeta(key))?.meta : await engine.store.get(key)
        if (meta && invalidated(meta.method)) keys.push(key)
      }
    }
  } else if (metadata) {
    for await (const { key, meta } of metadata.metaRecords())
      if (meta && urls.has(meta.url) && invalidated(meta.method)) keys.push(key)
  }
  return keys
}

/**
 * rfc: the responses an invalidation removes are those of GET and HEAD (and a POST's stored as its
 * GET): a POST answer stored by its body (allowableMethods, a query such as GraphQL) stays, or every
 * new query would remove all the others.
 */
function invalidated(method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}
