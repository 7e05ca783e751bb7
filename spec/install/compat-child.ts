/**
 * One process of the install compatibility suite (issue 11), run by spec/install/compat.test.ts.
 * Load order is fixed per process, so each combination (spec/install/compat-checks.ts) gets its own.
 * Environment: COMPAT_ORDER, COMPAT_UNDICI, COMPAT_GLOBAL. Reports each check as a line
 * `check <json>` the moment it is decided, then `done`, and always exits: a check that does not
 * settle within its time is a failure, not a stall.
 *
 * Only `node:` modules that do not load Node's bundled undici are imported statically (an ESM
 * `import 'node:http'` does load it, so the origin comes in later, dynamically).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type * as Undici from 'undici'
import type * as Package from '../../lib/index.js'
import type { Origin } from '../helpers/origin.js'
import {
  type CheckResult,
  type Combination,
  checksFor,
  DISPATCHER_FRONTS,
  FAULT_FRONTS,
  FAULTS,
  type FaultName,
  FRONTS,
  type FrontName,
  OWN_DISPATCHER_FRONTS,
  ownDispatcherUnsupported,
} from './compat-checks.js'

const SLOT1 = Symbol.for('undici.globalDispatcher.1')
const SLOT2 = Symbol.for('undici.globalDispatcher.2')
/** Generous for a loopback request on a loaded machine; a hang costs this much and no more. */
const CHECK_TIMEOUT = 5_000
const FAULT_TIMEOUT = 3_000
/**
 * Turns of the event loop given to a crash that comes late (an `'error'` event emitted on a later
 * tick than the failure that caused it): counted in turns, not milliseconds, so a slow machine
 * waits for the same events and a fast one wastes no time.
 */
const SETTLE_TURNS = 3

const combination: Combination = {
  order: process.env.COMPAT_ORDER === 'package-first' ? 'package-first' : 'bundled-first',
  undici: process.env.COMPAT_UNDICI === '8' ? '8' : '7',
  global: process.env.COMPAT_GLOBAL === 'before' ? 'before' : process.env.COMPAT_GLOBAL === 'after' ? 'after' : 'none',
}
const expected = new Set(checksFor(combination).map((c) => c.id))

// ---------------------------------------------------------------------------------------------
// What the process does that it should not: recorded, and reported against the check running.

const uncaught: string[] = []
const warnings: string[] = []
/** Told of the next crash: a wait for one ends when it happens, not at the next poll. */
const crashWaiters: (() => void)[] = []
function crashed(line: string): void {
  uncaught.push(line)
  for (const wake of crashWaiters.splice(0)) wake()
}
process.on('uncaughtException', (error) => crashed(`uncaughtException: ${errorText(error)}`))
process.on('unhandledRejection', (reason) => crashed(`unhandledRejection: ${errorText(reason)}`))

/** Resolves at the next crash. */
function nextCrash(): Promise<void> {
  return new Promise((resolve) => crashWaiters.push(resolve))
}

/** Lets SETTLE_TURNS turns of the event loop pass (each one runs the I/O callbacks that were due). */
async function settleTurns(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise((resolve) => setImmediate(resolve))
}
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`))

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const cause = error.cause instanceof Error ? ` (cause: ${errorText(error.cause)})` : ''
  return `${error.name}${code !== undefined ? ` [${String(code)}]` : ''}: ${error.message}${cause}`
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const reported = new Set<string>()

function report(result: CheckResult): void {
  if (!expected.has(result.id)) throw new Error(`check ${result.id} is not in compat-checks.ts for this combination`)
  reported.add(result.id)
  process.stdout.write(`check ${JSON.stringify(result)}\n`)
}

/** Collects every problem a check finds, so one report says all that is wrong. */
class Problems {
  readonly list: string[] = []
  eq(actual: unknown, expected: unknown, what: string): void {
    if (actual !== expected) this.list.push(`${what}: got ${show(actual)}, expected ${show(expected)}`)
  }
  match(actual: string | undefined, pattern: RegExp, what: string): void {
    if (actual === undefined || !pattern.test(actual)) this.list.push(`${what}: got ${show(actual)}, expected ${pattern}`)
  }
  ok(condition: boolean, what: string): void {
    if (!condition) this.list.push(what)
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)
  if (typeof value === 'object' && value !== null) return JSON.stringify(value)
  return String(value)
}

type CheckBody = (p: Problems) => Promise<undefined | { skip: string }>

/**
 * Runs one check under a hard timeout. With `attribute`, an uncaught exception raised while it ran
 * (or just after: a crash on an `'error'` event comes a tick late) fails this check.
 */
async function check(id: string, timeoutMs: number, body: CheckBody, attribute = true): Promise<void> {
  const p = new Problems()
  const uncaughtBefore = uncaught.length
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  let outcome: undefined | { skip: string } | 'timeout'
  try {
    outcome = await Promise.race([body(p), timeout])
  } catch (error) {
    p.list.push(`threw ${errorText(error)}`)
  } finally {
    clearTimeout(timer)
  }
  if (outcome === 'timeout') p.list.push(`did not settle within ${timeoutMs} ms (a hang)`)
  if (attribute) {
    await settleTurns()
    for (const line of uncaught.slice(uncaughtBefore)) p.list.push(`process: ${line}`)
  }
  if (outcome !== undefined && outcome !== 'timeout' && p.list.length === 0) {
    report({ id, ok: true, detail: '', skip: outcome.skip })
    return
  }
  report({ id, ok: p.list.length === 0, detail: p.list.join('; ') })
}

// ---------------------------------------------------------------------------------------------
// The globals the package must leave alone.

interface Slot {
  present: boolean
  value: unknown
}
interface Globals {
  slot1: Slot
  slot2: Slot
  fetch: PropertyDescriptor | undefined
}

function globals(): Globals {
  const slot = (key: symbol): Slot => ({ present: Object.hasOwn(globalThis, key), value: Reflect.get(globalThis, key) })
  return { slot1: slot(SLOT1), slot2: slot(SLOT2), fetch: Object.getOwnPropertyDescriptor(globalThis, 'fetch') }
}

function slotName(slot: Slot): string {
  if (!slot.present) return 'absent'
  const value = slot.value as { constructor?: { name?: string } } | undefined
  return value?.constructor?.name ?? typeof value
}

function describeGlobals(g: Globals): string {
  return `.1=${slotName(g.slot1)} .2=${slotName(g.slot2)}`
}

/** Differences between two snapshots, by identity. */
function compareGlobals(p: Problems, found: Globals, now: Globals, when: string): void {
  for (const [name, a, b] of [
    ['globalDispatcher.1', found.slot1, now.slot1],
    ['globalDispatcher.2', found.slot2, now.slot2],
  ] as const) {
    if (a.present !== b.present)
      p.list.push(`${when}: ${name} was ${a.present ? 'present' : 'absent'}, is ${b.present ? 'present' : 'absent'}`)
    else if (a.value !== b.value) p.list.push(`${when}: ${name} was a ${slotName(a)}, is another object (a ${slotName(b)})`)
  }
  const [fa, fb] = [found.fetch, now.fetch]
  if (fa?.value !== fb?.value || fa?.get !== fb?.get || fa?.set !== fb?.set)
    p.list.push(`${when}: globalThis.fetch is another function`)
  else if (fa?.writable !== fb?.writable || fa?.enumerable !== fb?.enumerable || fa?.configurable !== fb?.configurable)
    p.list.push(`${when}: globalThis.fetch has other property flags`)
}

// ---------------------------------------------------------------------------------------------
// Fronts: one shape over fetch, request and stream.

interface Answer {
  status: number
  header(name: string): string | undefined
  text(): Promise<string>
}
interface Init {
  signal?: AbortSignal
  dispatcher?: Undici.Dispatcher
}
type Front = (url: string, init?: Init) => Promise<Answer>

function fromResponse(response: Response): Answer {
  return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, text: () => response.text() }
}

function headerOf(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

function makeFronts(u: typeof Undici, captured: typeof fetch): Record<FrontName, Front> {
  return {
    'builtin-fetch': async (url, init) => fromResponse(await globalThis.fetch(url, init as unknown as RequestInit)),
    'captured-fetch': async (url, init) => fromResponse(await captured(url, init as unknown as RequestInit)),
    'undici-fetch': async (url, init) => fromResponse((await u.fetch(url, init as Undici.RequestInit)) as unknown as Response),
    'undici-request': async (url, init) => {
      const response = await u.request(url, { ...init })
      return { status: response.statusCode, header: (name) => headerOf(response.headers, name), text: () => response.body.text() }
    },
    'undici-stream': async (url, init) => {
      const chunks: Buffer[] = []
      let status = 0
      let headers: IncomingHttpHeaders = {}
      await u.stream(url, { method: 'GET', opaque: null, ...init }, (data) => {
        status = data.statusCode
        headers = data.headers as IncomingHttpHeaders
        return new Writable({
          write(chunk: Buffer, _encoding, callback) {
            chunks.push(chunk)
            callback()
          },
        })
      })
      const body = Buffer.concat(chunks).toString('utf8')
      return { status, header: (name) => headerOf(headers, name), text: async () => body }
    },
  }
}

/** An Agent of the user's undici that records the path of every request it dispatches. */
interface Counted {
  dispatcher: Undici.Dispatcher
  seen(path: string): number
}

function counted(u: typeof Undici): Counted {
  const paths: string[] = []
  const dispatcher = new u.Agent().compose((dispatch) => (opts, handler) => {
    paths.push(String(opts.path))
    return dispatch(opts, handler)
  })
  return { dispatcher, seen: (path) => paths.filter((p) => p === path).length }
}

// ---------------------------------------------------------------------------------------------
// Faults: how a request fails, by what a caller can observe.

interface Failure {
  stage: 'call' | 'body' | 'none'
  name?: string | undefined
  code?: unknown
  cause?: { name?: string | undefined; code?: unknown }
}

function failureOf(stage: Failure['stage'], error: unknown): Failure {
  const e = error as { name?: string; code?: unknown; cause?: { name?: string; code?: unknown } } | undefined
  const failure: Failure = { stage, name: e?.name, code: e?.code }
  if (e?.cause && typeof e.cause === 'object') failure.cause = { name: e.cause.name, code: e.cause.code }
  return failure
}

interface FaultSetup {
  origin: Origin
  refusedUrl: string
  /** Resolves when a request for `path` (under /hang/) has reached the origin. */
  arrival(path: string): Promise<void>
}

async function provoke(front: Front, fault: FaultName, setup: FaultSetup, tag: string): Promise<Failure> {
  const { origin } = setup
  let url: string
  let controller: AbortController | undefined
  if (fault === 'refused') url = `${setup.refusedUrl}/refused/${tag}`
  else if (fault === 'reset') url = `${origin.url}/reset/${tag}`
  else {
    url = `${origin.url}/hang/${tag}`
    controller = new AbortController()
  }
  const path = new URL(url).pathname
  const pending = front(url, controller ? { signal: controller.signal } : {})
  if (controller) {
    // Abort once the origin holds the request, so the abort lands mid-flight (bounded: a request
    // that never arrives is aborted after FAULT_TIMEOUT, and the check sees how it failed).
    await Promise.race([setup.arrival(path), sleep(FAULT_TIMEOUT)])
    controller.abort()
  }
  let answer: Answer
  try {
    answer = await pending
  } catch (error) {
    return failureOf('call', error)
  }
  try {
    await answer.text()
  } catch (error) {
    return failureOf('body', error)
  }
  return { stage: 'none' }
}

/** A fault's outcome through one front: how it failed (or why it did not settle), and crashes meanwhile. */
interface Outcome {
  failure: Failure | string
  crashes: string[]
}

/**
 * Sends each fault through every front. The fronts of one fault run together, so a hang costs one
 * timeout per fault. When something crashed meanwhile, each front is tried again alone, so the
 * crash is pinned on the front that caused it (a crash ends the wait at once: it is the verdict).
 */
async function provokeAll(fronts: Record<FrontName, Front>, setup: FaultSetup, tag: string): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>()
  for (const fault of Object.keys(FAULTS) as FaultName[]) {
    const uncaughtBefore = uncaught.length
    const failures = await Promise.all(
      FAULT_FRONTS.map((front) => bounded(provoke(fronts[front], fault, setup, `${tag}-${front}`))),
    )
    await settleTurns()
    const crashed = uncaught.length > uncaughtBefore
    for (const [i, front] of FAULT_FRONTS.entries()) {
      if (!crashed) {
        outcomes.set(`${fault}:${front}`, { failure: failures[i] as Failure | string, crashes: [] })
        continue
      }
      const before = uncaught.length
      const crash = Promise.race([nextCrash(), sleep(FAULT_TIMEOUT)])
      const failure = await Promise.race([bounded(provoke(fronts[front], fault, setup, `${tag}-alone-${front}`)), crash])
      await settleTurns()
      const crashes = uncaught.slice(before)
      outcomes.set(`${fault}:${front}`, {
        failure:
          failure ??
          (crashes.length ? 'did not settle before the process crashed' : `did not settle within ${FAULT_TIMEOUT} ms (a hang)`),
        crashes,
      })
    }
  }
  return outcomes
}

/** The failure, or a note that it did not settle within FAULT_TIMEOUT. */
function bounded(pending: Promise<Failure>): Promise<Failure | string> {
  return Promise.race([pending, sleep(FAULT_TIMEOUT).then(() => `did not settle within ${FAULT_TIMEOUT} ms (a hang)`)])
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const atStart = globals()

  // 1. The load order.
  if (combination.order === 'bundled-first') new Headers() // loads Node's bundled undici, which creates its dispatcher
  const beforeImport = globals()
  const pkg: typeof Package = await import('../../lib/index.js')
  const afterImport = globals()
  const u = (await import(combination.undici === '8' ? 'undici8' : 'undici')) as typeof Undici
  if (combination.order === 'package-first') new Headers()
  const loaded = globals()

  await check('load-order', CHECK_TIMEOUT, async (p) => {
    if (combination.order === 'bundled-first') {
      p.ok(
        beforeImport.slot1.present,
        `Node's undici created no dispatcher before the package loaded (${describeGlobals(beforeImport)})`,
      )
    } else {
      p.ok(
        !atStart.slot1.present && !atStart.slot2.present,
        `a dispatcher existed before anything loaded (${describeGlobals(atStart)})`,
      )
    }
    p.ok(loaded.slot1.present || loaded.slot2.present, 'no global dispatcher after loading everything')
    if (p.list.length) p.list.push(`after load: ${describeGlobals(loaded)}`)
    return undefined
  })
  await check('import-no-global', CHECK_TIMEOUT, async (p) => {
    compareGlobals(p, beforeImport, afterImport, 'after importing the package')
    return undefined
  })

  const { startOrigin } = await import('../helpers/origin.js')
  const { createServer } = await import('node:net')
  const arrived = new Map<string, () => void>()
  const arrivals = new Map<string, Promise<void>>()
  const arrival = (path: string) => {
    let promise = arrivals.get(path)
    if (!promise) {
      promise = new Promise<void>((resolve) => arrived.set(path, resolve))
      arrivals.set(path, promise)
    }
    return promise
  }
  const origin = await startOrigin({
    '*': (req, res) => {
      const url = req.url ?? '/'
      if (url.startsWith('/hang/')) {
        void arrival(url)
        arrived.get(url)?.()
        return // never answers: the caller aborts
      }
      if (url.startsWith('/reset/')) {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '1000' })
        res.write('partial')
        setTimeout(() => res.socket?.destroy(), 20)
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-origin': 'yes' })
      res.end(`hello ${url}`)
    },
  })
  const refusedUrl = await new Promise<string>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(`http://127.0.0.1:${port}`))
    })
  })
  const setup: FaultSetup = { origin, refusedUrl, arrival }

  // 2. Before install: the user's global dispatcher, and what works without the cache.
  const userGlobal = counted(u)
  if (combination.global === 'before') u.setGlobalDispatcher(userGlobal.dispatcher)
  const captured = globalThis.fetch
  const fronts = makeFronts(u, captured)

  let baseline = new Map<string, Outcome>()
  // Without a global set after install, the baseline is this process before install; with one,
  // it is measured after uninstallCache() (the user's dispatcher still in place).
  if (combination.global !== 'after') baseline = await provokeAll(fronts, setup, 'baseline-before')

  const ownBaseline = new Map<FrontName, string | undefined>()
  for (const front of OWN_DISPATCHER_FRONTS) {
    const own = counted(u)
    const path = `/own-baseline/${front}`
    try {
      const answer = await Promise.race([fronts[front](origin.url + path, { dispatcher: own.dispatcher }), sleep(CHECK_TIMEOUT)])
      if (!answer) throw new Error('did not settle')
      await answer.text()
      ownBaseline.set(front, own.seen(path) === 1 ? undefined : `the dispatcher saw ${own.seen(path)} requests`)
    } catch (error) {
      ownBaseline.set(front, errorText(error))
    }
  }

  // 3. Install.
  const found = globals()
  pkg.installCache({ backend: 'memory' })
  if (combination.global === 'after') u.setGlobalDispatcher(userGlobal.dispatcher)
  const userSet = globals()

  // 3a. Independent checks, run together (each on its own paths).
  const together: Promise<void>[] = []
  for (const front of Object.keys(FRONTS) as FrontName[]) {
    const passThrough = combination.global === 'after' && DISPATCHER_FRONTS.includes(front)
    together.push(
      check(
        `caches:${front}`,
        CHECK_TIMEOUT,
        async (p) => {
          const path = `/cache/${front}`
          const answers: [string, Answer, string][] = []
          for (const label of ['first', 'second']) {
            const answer = await fronts[front](origin.url + path)
            answers.push([label, answer, await answer.text()])
          }
          for (const [label, answer, body] of answers) {
            p.eq(answer.status, 200, `${label} status`)
            p.eq(body, `hello ${path}`, `${label} body`)
            p.eq(answer.header('x-origin'), 'yes', `${label} x-origin header`)
            p.eq(answer.header('content-type'), 'text/plain; charset=utf-8', `${label} content-type header`)
          }
          const [first, second] = answers as [[string, Answer, string], [string, Answer, string]]
          if (passThrough) {
            p.eq(origin.count(path), 2, 'requests that reached the origin')
            p.eq(userGlobal.seen(path), 2, "requests through the user's global dispatcher")
          } else {
            p.match(first[1].header('cache-status'), /fwd=miss/, 'first cache-status')
            p.match(second[1].header('cache-status'), /;\s*hit\b/, 'second cache-status')
            p.eq(origin.count(path), 1, 'requests that reached the origin')
          }
          return undefined
        },
        false,
      ),
    )
  }
  if (combination.global !== 'after') {
    const shared = (id: string, store: FrontName, hit: FrontName) =>
      check(
        id,
        CHECK_TIMEOUT,
        async (p) => {
          const path = `/shared/${store}-to-${hit}`
          await (await fronts[store](origin.url + path)).text()
          const answer = await fronts[hit](origin.url + path)
          p.eq(await answer.text(), `hello ${path}`, 'body')
          p.eq(answer.header('x-origin'), 'yes', 'x-origin header')
          p.match(answer.header('cache-status'), /;\s*hit\b/, 'cache-status')
          p.eq(origin.count(path), 1, 'requests that reached the origin')
          return undefined
        },
        false,
      )
    together.push(shared('shared:fetch-to-request', 'builtin-fetch', 'undici-request'))
    together.push(shared('shared:request-to-fetch', 'undici-request', 'builtin-fetch'))
  }
  const composed: Record<string, () => Undici.Dispatcher> = {
    agent: () => new u.Agent(),
    pool: () => new u.Pool(origin.url),
    client: () => new u.Client(origin.url),
  }
  for (const [name, make] of Object.entries(composed)) {
    together.push(
      check(
        `interceptor:${name}`,
        CHECK_TIMEOUT,
        async (p) => {
          const dispatcher = make().compose(pkg.cacheInterceptor({ backend: 'memory' }))
          const path = `/interceptor/${name}`
          const answers: Undici.Dispatcher.ResponseData[] = []
          for (let i = 0; i < 2; i++) {
            // With the origin in the options, as `undici.request(url, { dispatcher })` gives it: the key
            // needs it, and a dispatch without one passes uncached (see the check below).
            const answer = await dispatcher.request({ origin: origin.url, path, method: 'GET' })
            p.eq(await answer.body.text(), `hello ${path}`, `body ${i + 1}`)
            answers.push(answer)
          }
          p.eq(origin.count(path), 1, 'requests that reached the origin')
          p.eq(headerOf(answers[1]?.headers ?? {}, 'x-origin'), 'yes', 'second x-origin header')
          p.match(headerOf(answers[1]?.headers ?? {}, 'cache-status'), /;\s*hit\b/, 'second cache-status')
          void dispatcher.destroy().catch(() => {})
          return undefined
        },
        false,
      ),
    )
  }
  for (const front of OWN_DISPATCHER_FRONTS) {
    together.push(
      check(
        `own-dispatcher:${front}`,
        CHECK_TIMEOUT,
        async (p) => {
          const broken = ownBaseline.get(front)
          const unsupported = ownDispatcherUnsupported(front, combination.undici, process.versions.undici ?? '0')
          if (unsupported !== undefined) {
            // Skipped for the versions, once shown: it fails without the cache, and the same way with it.
            if (broken === undefined)
              p.list.push(`works without the cache, though ${unsupported} (compat-checks.ts is out of date)`)
            const own = counted(u)
            const failed = await fronts[front](`${origin.url}/own-unsupported/${front}`, { dispatcher: own.dispatcher }).then(
              async (answer) => `did not fail: ${await answer.text()}`,
              errorText,
            )
            p.eq(failed, broken, 'the failure with the cache vs without')
            return { skip: unsupported }
          }
          // A baseline that failed where the versions say it works is a failure, never a skip.
          if (broken !== undefined) p.list.push(`fails without the cache: ${broken}`)
          const own = counted(u)
          const path = `/own/${front}`
          const answer = await fronts[front](origin.url + path, { dispatcher: own.dispatcher })
          p.eq(await answer.text(), `hello ${path}`, 'body')
          p.eq(origin.count(path), 1, 'requests that reached the origin')
          p.eq(own.seen(path), 1, "requests through the caller's dispatcher")
          return undefined
        },
        false,
      ),
    )
  }
  if (combination.global !== 'none') {
    together.push(
      check(
        `global-${combination.global}`,
        CHECK_TIMEOUT,
        async (p) => {
          for (const front of ['builtin-fetch', 'undici-request'] as const) {
            const path = `/global/${front}`
            p.eq(await (await fronts[front](origin.url + path)).text(), `hello ${path}`, `${front} body`)
            p.eq(origin.count(path), 1, `${front}: requests that reached the origin`)
            p.eq(userGlobal.seen(path), 1, `${front}: requests through the user's global dispatcher`)
          }
          return undefined
        },
        false,
      ),
    )
  }
  await Promise.all(together)

  // 3b. Faults.
  const underCache = await provokeAll(fronts, setup, 'cached')

  // 4. Uninstall.
  pkg.uninstallCache()
  const afterUninstall = globals()
  await check('uninstall-restores', CHECK_TIMEOUT, async (p) => {
    // A dispatcher the user set after install is what the slots hold then; the cache's layer is gone.
    compareGlobals(
      p,
      combination.global === 'after' ? { ...userSet, fetch: found.fetch } : found,
      afterUninstall,
      'after uninstallCache()',
    )
    p.ok(globalThis.fetch === captured, 'globalThis.fetch is not the original')
    return undefined
  })
  await check('after-uninstall', CHECK_TIMEOUT, async (p) => {
    for (const front of ['builtin-fetch', 'undici-request'] as const) {
      const path = `/after-uninstall/${front}`
      for (let i = 0; i < 2; i++) {
        const answer = await fronts[front](origin.url + path)
        p.eq(await answer.text(), `hello ${path}`, `${front} body ${i + 1}`)
        p.eq(answer.header('cache-status'), undefined, `${front} cache-status ${i + 1}`)
      }
      p.eq(origin.count(path), 2, `${front}: requests that reached the origin`)
    }
    return undefined
  })

  if (combination.global === 'after') baseline = await provokeAll(fronts, setup, 'baseline-after')
  for (const fault of Object.keys(FAULTS) as FaultName[]) {
    for (const front of FAULT_FRONTS) {
      const key = `${fault}:${front}`
      await check(
        `fault:${key}`,
        CHECK_TIMEOUT,
        async (p) => {
          const without = baseline.get(key)
          const withCache = underCache.get(key)
          if (typeof withCache?.failure === 'string') p.list.push(withCache.failure)
          else
            p.eq(show(withCache?.failure), show(without?.failure), 'failure (stage, name, code, cause) with the cache vs without')
          if (typeof without?.failure === 'string' || without?.failure.stage === 'none')
            p.list.push(`without the cache it did not fail: ${show(without?.failure)}`)
          for (const crash of withCache?.crashes ?? []) p.list.push(`process: ${crash}`)
          return undefined
        },
        false,
      )
    }
  }

  await check(
    'no-uncaught',
    CHECK_TIMEOUT,
    async (p) => {
      for (const line of uncaught) p.list.push(line)
      return undefined
    },
    false,
  )
  await check(
    'no-warning',
    CHECK_TIMEOUT,
    async (p) => {
      for (const line of warnings) p.list.push(line)
      return undefined
    },
    false,
  )

  await origin.close().catch(() => {})
}

// A hung request holds sockets and timers open: exit explicitly once everything is reported.
main()
  .catch((error) => process.stdout.write(`fatal ${JSON.stringify(errorText(error))}\n`))
  .finally(() => {
    process.stdout.write(`done ${JSON.stringify([...expected].filter((id) => !reported.has(id)))}\n`)
    process.exit(0)
  })
