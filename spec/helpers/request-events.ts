import type http from 'node:http'

/**
 * A node:http request's events in order, once it closed: 'abort', 'response' with its status (and,
 * with `cacheStatus`, its Cache-Status or '-'), 'error' with its name and code, 'close'.
 */
export function requestEvents(req: http.ClientRequest, { cacheStatus = false } = {}): Promise<string[]> {
  const events: string[] = []
  req.on('abort', () => events.push('abort'))
  req.on('error', (error: Error & { code?: string }) => events.push(`error ${error.name} ${error.code ?? ''}`))
  req.on('response', (res: http.IncomingMessage) => {
    events.push(cacheStatus ? `response ${res.statusCode} ${res.headers['cache-status'] ?? '-'}` : `response ${res.statusCode}`)
    res.resume()
  })
  return new Promise((resolve) => {
    // A bound, not a synchronisation: a request that never closes fails the comparison.
    const watchdog = setTimeout(() => resolve([...events, 'no close within 5s']), 5000)
    req.on('close', () => {
      events.push('close')
      clearTimeout(watchdog)
      // 'abort' is emitted on a later tick than 'close' for a request ended before its socket.
      setImmediate(() => resolve(events))
    })
  })
}
