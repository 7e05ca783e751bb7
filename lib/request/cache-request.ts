import type { ParsedRequestOptions } from '../options/settings.js'

/** Fetch's cache modes (`init.cache`), which fetch-http-cache implements and undici does not. */
export type RequestCacheMode = 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache' | 'only-if-cached'

/** A request as the exchange sees it, whichever front it came through (lib/README.md, "The exchange"). */
export interface CacheRequest {
  method: string
  /** The URL as it will be sent. */
  url: string
  headers: Headers
  /** `undefined` when the body cannot be keyed without consuming it (a stream, a `Request` body). */
  bodyDigest: string | undefined
  /** Fetch's `init.cache`. */
  mode: RequestCacheMode | undefined
  options: ParsedRequestOptions
  signal: AbortSignal | undefined
  /** Why the front keeps the cache out of this request (e.g. a `Host` header naming another host). */
  bypass?: string | undefined
  /**
   * The caller's own connection carries the origin's answer (node:http): such a request is never
   * coalesced, since as the leader its caller would pace, or by aborting end, the others' bodies.
   */
  ownConnection?: true
  /**
   * fetch follows redirects for this caller (`redirect: 'follow'`): a stored 3xx it would follow is
   * not its answer, where a stored response that a followed redirect led to is (and for no other caller).
   */
  follows?: true
}
