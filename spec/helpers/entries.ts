import { type CacheEntry, ENTRY_VERSION } from '../../lib/entry/entry.js'
import { withFreshnessFacts } from '../../lib/entry/freshness-facts.js'

/** Fixed times, so tests that compare entries or reason about expiry do not depend on the clock. */
export const T0 = Date.UTC(2025, 0, 1)

/**
 * A valid stored response for `GET https://example.com/`, with `overrides` applied; its freshness facts
 * are those of its fields, unless `overrides` gives them.
 */
export function makeEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  const entry: CacheEntry = {
    v: ENTRY_VERSION,
    key: 'k',
    kind: 'response',
    method: 'GET',
    url: 'https://example.com/',
    responseUrl: 'https://example.com/',
    requestHeaders: { accept: '*/*' },
    bodyDigest: '',
    status: 200,
    statusText: 'OK',
    headers: [
      ['content-type', 'text/plain; charset=utf-8'],
      ['etag', '"v1"'],
    ],
    redirected: false,
    body: new TextEncoder().encode('hello'),
    encoding: 'identity',
    requestTime: T0,
    responseTime: T0 + 5,
    createdAt: T0 + 5,
    expires: T0 + 60_000,
    initialAge: 0,
    ...overrides,
  }
  return 'initialAge' in overrides || 'directives' in overrides ? entry : withFreshnessFacts(entry)
}
