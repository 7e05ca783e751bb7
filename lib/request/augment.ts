import type { RequestCacheOptions } from '../options/types.js'
import type { RequestCacheMode } from './cache-request.js'

/**
 * `cacheOptions` typed where callers write it, by declaration merging: in effect in any program that
 * imports the package (lib/index.ts imports this file, so its declarations reach `index.d.ts`).
 *
 * - The global `RequestInit`: the patched `globalThis.fetch` reads `init.cacheOptions` and `init.cache`
 *   (so does a `createCachedFetch()` function). `new Request(url, { cacheOptions })` type-checks too, but a
 *   `Request` does not keep it: pass it to `fetch()` in `init`.
 * - undici's `Dispatcher.DispatchOptions`, which `request()`, `stream()`, `pipeline()` and
 *   `dispatch()` take: the dispatcher front reads `opts.cacheOptions`. This reaches the `undici`
 *   that fetch-http-cache's own types resolve; another copy of undici is not augmented. undici's own
 *   `fetch()` is not augmented: it builds its dispatch options itself and drops `cacheOptions`.
 */

declare global {
  interface RequestInit {
    /**
     * The Fetch standard's cache mode, which fetch-http-cache implements (undici's fetch ignores it,
     * and its types leave it out). The same members as the DOM's `RequestCache`, so the two merge.
     */
    cache?: RequestCacheMode
    /** fetch-http-cache's per-request options (requests-cache's per-request settings); never sent to the origin. */
    cacheOptions?: RequestCacheOptions
  }
}

declare module 'undici' {
  namespace Dispatcher {
    interface DispatchOptions {
      /** fetch-http-cache's per-request options, as `init.cacheOptions` for fetch; never sent to the origin. */
      cacheOptions?: RequestCacheOptions
    }
  }
}
