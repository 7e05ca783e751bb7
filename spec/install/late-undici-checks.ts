import type * as Undici from 'undici'
import type * as Package from '../../lib/index.js'
import { startOrigin } from '../helpers/origin.js'

/**
 * undici loaded after `installCache()` (issue 20), run by late-undici-child.{ts,cts} once the child
 * has captured `fetch`, imported the package, installed it and only then loaded npm undici: the
 * order a CommonJS app that calls `installCache()` at start-up and requires its libraries after has.
 * Each check reports a line `check <json>` (spec/helpers/check-child.ts reads them).
 */

const SLOT1 = Symbol.for('undici.globalDispatcher.1')
const SLOT2 = Symbol.for('undici.globalDispatcher.2')

export const LATE_CHECKS = {
  'nothing-loaded': 'before install, no undici had created a global dispatcher (the process never loaded Node’s undici)',
  'undici-request': "npm undici's request(), loaded after install: the second request is a hit",
  'undici-fetch': "npm undici's fetch(), loaded after install: the second request is a hit",
  'captured-fetch': 'a fetch captured before install (never called before): the second request is a hit',
  'passes-through':
    "inside disabled(), npm undici's fetch and request reach the origin through the cache's layer untouched, in whichever slot they read",
  'set-after-install':
    'a global dispatcher set after install carries requests; installCache() again puts the cache in front of it',
  'uninstall-restores': 'uninstallCache() leaves no layer of the cache in either slot and restores globalThis.fetch',
} as const
export type LateCheck = keyof typeof LATE_CHECKS

interface Answer {
  status: number
  cacheStatus: string | undefined
  body: string
}

export async function runLateChecks(
  pkg: typeof Package,
  undici: typeof Undici,
  captured: typeof fetch,
  slotsAtStart: { one: boolean; two: boolean },
): Promise<void> {
  const report = (id: LateCheck, problems: string[]) =>
    process.stdout.write(`check ${JSON.stringify({ id, ok: problems.length === 0, detail: problems.join('; ') })}\n`)
  const origin = await startOrigin()
  const viaRequest = async (url: string, dispatcher?: Undici.Dispatcher): Promise<Answer> => {
    const r = await undici.request(url, dispatcher ? { dispatcher } : {})
    const cacheStatus = r.headers['cache-status']
    return {
      status: r.statusCode,
      cacheStatus: Array.isArray(cacheStatus) ? cacheStatus.join() : cacheStatus,
      body: await r.body.text(),
    }
  }
  const viaFetch =
    (f: typeof fetch) =>
    async (url: string): Promise<Answer> => {
      const r = await f(url)
      return { status: r.status, cacheStatus: r.headers.get('cache-status') ?? undefined, body: await r.text() }
    }
  const twice = async (path: string, send: (url: string) => Promise<Answer>): Promise<string[]> => {
    const problems: string[] = []
    try {
      const first = await send(origin.url + path)
      const second = await send(origin.url + path)
      if (first.body !== `hello ${path}` || second.body !== `hello ${path}`)
        problems.push(`bodies ${first.body} / ${second.body}`)
      if (!/fwd=miss/.test(first.cacheStatus ?? '')) problems.push(`first Cache-Status ${first.cacheStatus}`)
      if (!/;\s*hit\b/.test(second.cacheStatus ?? '')) problems.push(`second Cache-Status ${second.cacheStatus}`)
      if (origin.count(path) !== 1) problems.push(`the origin saw ${origin.count(path)} requests`)
    } catch (error) {
      problems.push(`threw ${String(error)}`)
    }
    return problems
  }
  report('nothing-loaded', slotsAtStart.one || slotsAtStart.two ? [`slots at start: ${JSON.stringify(slotsAtStart)}`] : [])
  report('undici-request', await twice('/late/request', (url) => viaRequest(url)))
  report('undici-fetch', await twice('/late/undici-fetch', viaFetch(undici.fetch as unknown as typeof fetch)))
  report('captured-fetch', await twice('/late/captured', viaFetch(captured)))
  // Requests the cache stays out of go to the dispatcher the slot held; one that borrowed the other
  // slot's (undici 8 reading `.2` on Node 22, where only undici 6 had set `.1`) gets them translated.
  const untouched: string[] = []
  for (const [path, send] of [
    ['/late/disabled-fetch', viaFetch(undici.fetch as unknown as typeof fetch)],
    ['/late/disabled-request', (url: string) => viaRequest(url)],
  ] as const) {
    try {
      const answer = await pkg.disabled(() => send(origin.url + path))
      if (answer.body !== `hello ${path}` || answer.cacheStatus !== undefined)
        untouched.push(`${path}: ${answer.body}, Cache-Status ${answer.cacheStatus}`)
    } catch (error) {
      untouched.push(`${path} threw ${String(error)}`)
    }
  }
  report('passes-through', untouched)

  const seen: string[] = []
  const user = new undici.Agent().compose((dispatch) => (opts, handler) => {
    seen.push(String(opts.path))
    return dispatch(opts, handler)
  })
  undici.setGlobalDispatcher(user)
  const problems: string[] = []
  const passed = await viaRequest(`${origin.url}/late/user`)
  if (passed.cacheStatus !== undefined) problems.push(`before installCache() again: Cache-Status ${passed.cacheStatus}`)
  pkg.installCache({ backend: 'memory' })
  problems.push(...(await twice('/late/user-again', (url) => viaRequest(url))))
  if (seen.filter((p) => p === '/late/user-again').length !== 1)
    problems.push(`the user's dispatcher saw ${JSON.stringify(seen)}`)
  report('set-after-install', problems)

  pkg.uninstallCache()
  const restored: string[] = []
  for (const slot of [SLOT1, SLOT2]) {
    const value = Reflect.get(globalThis, slot) as { wrapped?: unknown } | undefined
    if (value && 'wrapped' in value) restored.push(`${String(slot)} still holds the cache's layer`)
  }
  if (globalThis.fetch !== captured) restored.push('globalThis.fetch is not the original')
  const after = await viaRequest(`${origin.url}/late/after`)
  if (after.cacheStatus !== undefined) restored.push(`after uninstall: Cache-Status ${after.cacheStatus}`)
  report('uninstall-restores', restored)
  await user.close()
  await origin.close()
}
