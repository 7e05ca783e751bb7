import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, afterEach, before, describe, it } from 'node:test'
import { Agent, type Dispatcher, getGlobalDispatcher, request } from 'undici'
import { cacheInfo, cacheInterceptor, disabled, installCache, isFetchCacheError, uninstallCache } from '../../lib/index.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

/**
 * Keys from the request as it will be sent (issue 11): an entry is only ever served for the request
 * that produced it. Each of these was a way to poison the cache: store an answer under a URL other
 * than the one the origin was asked for, or serve one caller's answer to a request it does not fit.
 */
const memory = { backend: 'memory' } as const
const TIMEOUT = { timeout: 10_000 }
/** A request that hangs fails its test this soon, so one hang does not use up the file's time. */
const SETTLE_MS = 3_000

function settled<T>(pending: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${SETTLE_MS} ms (a hang)`)), SETTLE_MS)
  })
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer))
}

type RequestOptions = NonNullable<Parameters<typeof request>[1]>

/** A way into the dispatcher front, with a fresh cache for each test. */
interface DispatcherFront {
  name: string
  start(): void
  stop(): void
  /** `undici.request(url, opts)` through the front. */
  request(url: string, opts?: RequestOptions & { cacheOptions?: unknown }): Promise<Dispatcher.ResponseData<unknown>>
  /** A dispatch with `origin` and `path` exactly as given (undici's URL parsing would normalize a `\`). */
  raw(origin: string, path: string): Promise<Dispatcher.ResponseData<unknown>>
}

function globalFront(): DispatcherFront {
  return {
    name: 'undici.request() after installCache()',
    start: () => installCache(memory),
    stop: () => uninstallCache(),
    request: (url, opts) => settled(request(url, opts as RequestOptions), `request(${url})`),
    raw: (origin, path) => settled(getGlobalDispatcher().request({ origin, path, method: 'GET' }), `dispatch ${path}`),
  }
}

function interceptorFront(): DispatcherFront {
  let agent: Dispatcher | undefined
  const dispatcher = () => agent ?? assert.fail('not started')
  return {
    name: 'cacheInterceptor() composed onto an Agent',
    start: () => {
      agent = new Agent().compose(cacheInterceptor(memory))
    },
    stop: () => {
      void agent?.destroy().catch(() => {})
      agent = undefined
    },
    request: (url, opts) => settled(request(url, { ...(opts as RequestOptions), dispatcher: dispatcher() }), `request(${url})`),
    raw: (origin, path) => settled(dispatcher().request({ origin, path, method: 'GET' }), `dispatch ${path}`),
  }
}

/** Answers `<name> <path as received> host <Host header>`. */
function echo(name: string) {
  return startOrigin({
    '*': (req, res) => {
      res.setHeader('content-type', 'text/plain')
      res.end(`${name} ${req.url} host ${req.headers.host}`)
    },
  })
}

describe('the dispatcher front keys requests as undici sends them', () => {
  for (const front of [globalFront(), interceptorFront()]) {
    describe(front.name, () => {
      // Origins of its own: a request a hung front left behind is never counted against the other.
      let a: Origin
      let b: Origin
      before(async () => {
        a = await echo('A')
        b = await echo('B')
      })
      after(async () => {
        await a.close()
        await b.close()
      })
      afterEach(() => front.stop())
      const hostOf = (origin: Origin) => new URL(origin.url).host

      for (const prefix of ['//', '/\\']) {
        it(
          `a path starting with ${JSON.stringify(prefix)} naming another host is a path on the same origin: never stored under, or served to, that host`,
          TIMEOUT,
          async () => {
            front.start()
            const config = `/config-${prefix.length}`
            const path = `${prefix}${hostOf(b)}${config}`
            const tricked = await front.raw(a.url, path)
            assert.equal(await tricked.body.text(), `A ${path} host ${hostOf(a)}`)
            const before = b.count(config)
            const plain = await front.request(`${b.url}${config}`)
            assert.equal(await plain.body.text(), `B ${config} host ${hostOf(b)}`)
            assert.equal(b.count(config), before + 1, "B's origin was asked")
          },
        )
      }

      it("undici's query option is part of the key: different queries get different answers", TIMEOUT, async () => {
        front.start()
        const one = await front.request(`${a.url}/q`, { query: { a: 1 } })
        assert.equal(await one.body.text(), `A /q?a=1 host ${hostOf(a)}`)
        const two = await front.request(`${a.url}/q`, { query: { a: 2 } })
        assert.equal(await two.body.text(), `A /q?a=2 host ${hostOf(a)}`)
        assert.equal(a.count('/q?a=2'), 1)
        const again = await front.request(`${a.url}/q`, { query: { a: 1 } })
        assert.equal(await again.body.text(), `A /q?a=1 host ${hostOf(a)}`)
      })

      it(
        'a Host header that differs from the origin never poisons the entry for plain requests, nor reads theirs',
        TIMEOUT,
        async () => {
          front.start()
          const foreign = await front.request(`${a.url}/host-first`, { headers: { host: 'other.example' } })
          assert.equal(await foreign.body.text(), 'A /host-first host other.example')
          const plain = await front.request(`${a.url}/host-first`)
          assert.equal(await plain.body.text(), `A /host-first host ${hostOf(a)}`, 'a plain request got the foreign-Host answer')

          const plainFirst = await front.request(`${a.url}/plain-first`)
          assert.equal(await plainFirst.body.text(), `A /plain-first host ${hostOf(a)}`)
          const foreignAfter = await front.request(`${a.url}/plain-first`, { headers: { host: 'other.example' } })
          assert.equal(
            await foreignAfter.body.text(),
            'A /plain-first host other.example',
            'a foreign-Host request got the plain answer',
          )
        },
      )

      it(
        'the cacheOptions dispatch option works as init.cacheOptions does: forceRefresh goes to the origin, onlyIfCached answers 504 without it',
        TIMEOUT,
        async () => {
          front.start()
          const url = `${a.url}/per-request`
          await (await front.request(url)).body.text()
          await (await front.request(url)).body.text()
          assert.equal(a.count('/per-request'), 1, 'the second request is a hit')
          const refreshed = await front.request(url, { cacheOptions: { forceRefresh: true } })
          await refreshed.body.text()
          assert.equal(a.count('/per-request'), 2, 'forceRefresh reached the origin')

          const offline = await front.request(`${a.url}/never-fetched`, { cacheOptions: { onlyIfCached: true } })
          await offline.body.text()
          assert.equal(offline.statusCode, 504)
          assert.equal(a.count('/never-fetched'), 0)

          for (const seen of a.requests) {
            const sent = JSON.stringify(seen.headers).toLowerCase()
            assert.ok(!sent.includes('cacheoptions') && !sent.includes('forcerefresh') && !sent.includes('onlyifcached'), sent)
          }
        },
      )

      it('a bad cacheOptions dispatch option rejects with a typed error, as it does for fetch', TIMEOUT, async () => {
        front.start()
        // @ts-expect-error: a wrong type on purpose, which the types reject too
        const bad = front.request(`${a.url}/bad-options`, { cacheOptions: { forceRefresh: 'yes' } })
        await assert.rejects(bad, (error) => isFetchCacheError(error))
        assert.equal(a.count('/bad-options'), 0)
      })
    })
  }
})

describe('the fetch front keys on what changes the answer fetch gives', () => {
  let origin: Origin
  before(async () => {
    origin = await startOrigin({
      '/moved': (_req, res) => {
        res.writeHead(301, { location: '/target' })
        res.end()
      },
      '/moved-again': (_req, res) => {
        res.writeHead(301, { location: '/target' })
        res.end()
      },
      '/target': (_req, res) => {
        res.setHeader('content-type', 'text/plain')
        res.end('target')
      },
    })
  })
  after(() => origin.close())
  afterEach(() => uninstallCache())

  it(
    "a redirect: 'manual' request's stored 3xx is never returned to a plain fetch(), which follows redirects",
    TIMEOUT,
    async () => {
      installCache({ ...memory, allowableCodes: [200, 301] })
      const manual = await fetch(`${origin.url}/moved`, { redirect: 'manual' })
      await manual.arrayBuffer()
      assert.equal(manual.status, 301)
      const plain = await fetch(`${origin.url}/moved`)
      assert.equal(plain.status, 200)
      assert.equal(await plain.text(), 'target')
      assert.equal(plain.redirected, true)
    },
  )

  it("a plain fetch()'s followed answer is never returned to a redirect: 'manual' request", TIMEOUT, async () => {
    installCache({ ...memory, allowableCodes: [200, 301] })
    const plain = await fetch(`${origin.url}/moved-again`)
    assert.equal(await plain.text(), 'target')
    const manual = await fetch(`${origin.url}/moved-again`, { redirect: 'manual' })
    await manual.arrayBuffer()
    assert.equal(manual.status, 301)
    assert.equal(manual.headers.get('location'), '/target')
  })

  it(
    "a request with integrity passes a stored entry by and fetch checks the origin's body: a wrong one rejects, the right one resolves",
    TIMEOUT,
    async () => {
      const sri = (text: string) => `sha256-${createHash('sha256').update(text).digest('base64')}`
      const wrong = sri('something else')
      // What fetch does without the cache.
      await assert.rejects(
        disabled(async () => (await fetch(`${origin.url}/uncached`, { integrity: wrong })).text()),
        TypeError,
      )

      installCache(memory)
      const url = `${origin.url}/integrity`
      const first = await fetch(url)
      const body = await first.text()
      assert.equal(await cacheInfo(first)?.stored, true)
      // The entry is there: a plain request hits it.
      const hit = await fetch(url)
      assert.equal(await hit.text(), body)
      assert.equal(cacheInfo(hit)?.fromCache, true)
      assert.equal(origin.count('/integrity'), 1)
      // With integrity the origin answers, and fetch checks what it sent (lib/README.md, Keys from the request as sent).
      await assert.rejects(
        (async () => (await fetch(url, { integrity: wrong })).text())(),
        TypeError,
        'a wrong integrity was not checked',
      )
      const right = await fetch(url, { integrity: sri(body) })
      assert.equal(await right.text(), body)
      assert.equal(cacheInfo(right)?.fromCache, false)
      assert.equal(origin.count('/integrity'), 3)
    },
  )
})
