/**
 * Writes still pending when the process ends. A pending commit keeps the loop alive (for at most
 * the store's `busyTimeout` while another process holds the lock), so a process that ends on its own
 * has committed by then; `beforeExit` catches writes made by other `beforeExit` listeners, and `exit`
 * those cut short by `process.exit()` or an uncaught exception. Both commit synchronously, waiting for
 * another process's lock as long as `busyTimeout`: nothing else is left to run, so blocking is harmless
 * there. A signal that kills the process (SIGKILL, or SIGTERM/SIGINT without a handler) runs neither:
 * the writes of its last turn of the event loop are lost, never half-written.
 *
 * One listener of each kind for every store in the process, added on first use.
 */
const pending = new Set<() => void>()
let listening = false

/** Call `flush` at exit unless `unregister` is called first. */
export function flushAtExit(flush: () => void): void {
  pending.add(flush)
  if (listening) return
  listening = true
  process.on('beforeExit', flushAll)
  process.on('exit', flushAll)
}

/** The writes `flush` stands for are done (committed or given up). */
export function unregister(flush: () => void): void {
  pending.delete(flush)
}

function flushAll(): void {
  for (const flush of [...pending]) {
    pending.delete(flush)
    try {
      flush()
    } catch {
      // One store failing must not keep the others from committing.
    }
  }
}
