import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Marks the fetch front's own origin requests, so the dispatcher front lets them pass instead of
 * looking them up or storing them a second time, while the caller's `init.dispatcher` stays theirs.
 * Kept under a `Symbol.for()` key, so two copies of the package in one process share one mark, and
 * created on first use, so importing the package changes no global.
 */
const KEY = Symbol.for('fetch-http-cache.origin-request.v1')
const holder = globalThis as unknown as Record<symbol, AsyncLocalStorage<true> | undefined>

/** Runs `send` as an origin request of the fetch front. */
export function asOriginRequest<T>(send: () => T): T {
  let mark = holder[KEY]
  if (!mark) {
    mark = new AsyncLocalStorage<true>()
    Object.defineProperty(globalThis, KEY, { value: mark, enumerable: false, configurable: true })
  }
  return mark.run(true, send)
}

/** Whether the current request is an origin request of the fetch front. */
export function isOriginRequest(): boolean {
  return holder[KEY]?.getStore() === true
}
