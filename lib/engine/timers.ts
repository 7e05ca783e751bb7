/**
 * The timer functions as they were when the package loaded, for the cache's own waits: a test
 * runner's fake timers (node:test `mock.timers`, @sinonjs/fake-timers) replace the globals once a test
 * installs them, and a cache hit or a SQLite commit waiting on a faked one would wait until the test
 * ticks the clock, which it does not know to do (its `fetch` would hang, or
 * `cacheInfo(response).stored` never settle).
 */
export const realTimers = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
}

/** `value`, once the event loop has turned. */
export function afterTurn<T>(value: T): Promise<T> {
  return new Promise((resolve) => realTimers.setImmediate(resolve, value))
}

/** Resolves once the event loop has turned (a long listing lets other work run between pages). */
export function nextTurn(): Promise<void> {
  return afterTurn(undefined)
}

/**
 * `promise`, or `undefined` once `ms` have passed without it settling (the timer never keeps the
 * process alive). The promise goes on either way.
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = realTimers.setTimeout(() => resolve(undefined), ms)
    timer.unref()
  })
  return Promise.race([promise, late]).finally(() => realTimers.clearTimeout(timer))
}
