import type { Engine } from './engine.js'

/**
 * Requests an engine is still serving: from the start of an exchange until what it answered no
 * longer needs the store (a hit at once; an answer being stored once its write settled). Closing a
 * store replaced by `installCache()`, or the one an `enabled()` block made, waits for them, so no
 * write in flight meets a closed store.
 */
interface Activity {
  count: number
  waiters: (() => void)[]
}

const activities = new WeakMap<Engine, Activity>()

/** Counts one request in; call {@link release} once it no longer needs the store. */
export function hold(engine: Engine): Activity {
  let activity = activities.get(engine)
  if (!activity) {
    activity = { count: 0, waiters: [] }
    activities.set(engine, activity)
  }
  activity.count++
  return activity
}

export function release(activity: Activity): void {
  if (--activity.count > 0) return
  for (const waiter of activity.waiters.splice(0)) waiter()
}

/** Resolves once the engine serves no request (at once when it serves none now). */
export function settled(engine: Engine): Promise<void> {
  const activity = activities.get(engine)
  if (!activity || activity.count === 0) return Promise.resolve()
  return new Promise((resolve) => activity.waiters.push(resolve))
}

/** Whether the engine is serving any request now. */
export function busy(engine: Engine): boolean {
  return (activities.get(engine)?.count ?? 0) > 0
}
