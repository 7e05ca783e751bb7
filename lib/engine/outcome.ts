import type { CacheEntry } from '../entry/entry.js'
import type { CacheInfo } from '../observe/cache-info.js'

/** What the exchange hands the fronts, and what they hand it (lib/README.md, "The exchange"). */

/** The origin's answer, as the front hands it over. */
export interface OriginResponse {
  status: number
  statusText: string
  headers: Headers
  body: ReadableStream<Uint8Array> | null
  /** Whether `body` is already without content-coding (fetch decodes; a dispatcher does not). */
  decoded: boolean
  /** The response URL (after redirects, for fetch). */
  url: string
  redirected: boolean
  type?: Response['type']
  /**
   * The origin's trailer fields (RFC 9110 §6.5), lower-case pairs, filled in when the body has ended
   * (the array is shared by every copy of the response): a dispatcher front's caller gets them with
   * the end of the body. Never stored (README: a hit has none).
   */
  trailers?: [string, string][]
  /** The fetch front's own `Response`, handed back as it is when the cache cannot rebuild it. */
  source?: Response
  /**
   * It came over TLS whose certificate the caller chose not to verify (`rejectUnauthorized: false`):
   * never stored, or a strict caller would get it later as a hit. Only the node:http front sees this.
   */
  unverified?: true
}

/**
 * Sends the request to the origin, with `conditional` header fields added when given. `background`
 * is set for a refresh nobody waits for (stale-while-revalidate): the caller has its answer already,
 * so a front whose request can be sent once (node:http) sends another.
 */
export type Forward = (
  conditional: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
  background: boolean,
) => Promise<OriginResponse>

/** What the caller gets. */
export type Outcome =
  | {
      kind: 'entry'
      entry: CacheEntry
      /** The stored header fields as served (`Age` and `Cache-Status` set). */
      headers: [string, string][]
      info: CacheInfo
      /** The caller's own conditional request is satisfied: answer 304 without a body (RFC 9111 §4.3.2). */
      notModified: boolean
    }
  | {
      kind: 'origin'
      response: OriginResponse
      cacheStatus: string
      info: CacheInfo
      /**
       * Whether identical requests waiting on this one may be given this answer (RFC 9111 §4: only a
       * response stored or storable and reusable for them): `'as-sent'` at once, `'once-stored'` only
       * once it is stored (a filter decides on the body). Absent: each sends its own request.
       */
      reusable?: 'as-sent' | 'once-stored'
    }
  | { kind: 'generated'; status: number; statusText: string; body: string; cacheStatus: string; info: CacheInfo }

/** Cancels a body nobody will read. */
export async function discard(response: OriginResponse): Promise<void> {
  await response.body?.cancel().catch(() => {})
}

/** Waits until an unread origin answer is stored (or will not be), then lets its body go. */
export async function release(outcome: Extract<Outcome, { kind: 'origin' }>): Promise<void> {
  await outcome.info.stored
  await discard(outcome.response)
}
