import { isPromise } from '../entry/store.js'
/** Where a cache failure goes: the one wrapper around `onError`, with the one default. */

/** What `onError` receives. */
export type OnError = (error: Error) => void

/**
 * A function delivering each failure to the `onError` that `current()` gives at that moment (it can
 * change with live settings), or, without one, as a process warning once per error code (per
 * reporter), so a broken disk does not flood the log. A throwing (or rejecting) `onError` is ignored: a report
 * never breaks the request, the store or the session that made it.
 */
export function errorReporter(current: () => OnError | undefined = () => undefined): OnError {
  const warned = new Set<string>()
  return (error) => {
    try {
      const onError = current()
      if (onError) {
        // An async onError that rejects is as harmless as one that throws: no unhandled rejection.
        const result: unknown = onError(error)
        if (isPromise(result)) result.then(undefined, () => {})
        return
      }
      const code = (error as { code?: string }).code ?? error.name
      if (warned.has(code)) return
      warned.add(code)
      process.emitWarning(error.message, {
        type: 'FetchCacheWarning',
        code,
        detail: error.cause ? String(error.cause) : undefined,
      })
    } catch {
      // A throwing onError must not break what reported.
    }
  }
}
