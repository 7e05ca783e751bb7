import assert from 'node:assert/strict'
import { describe, type TestContext, test } from 'node:test'
import * as undici7 from 'undici'
import * as undici8 from 'undici8'
import { cacheInterceptor } from '../../../lib/index.js'
import { startOrigin } from '../../helpers/origin.js'

/**
 * undici's handlers may throw from a callback on purpose: the dump interceptor past its size limit,
 * the retry handler at the end of a response it will retry, a `stream()` factory. undici turns the
 * throw into the request's error. Through the cache (a hit is served from a microtask) the same must
 * hold: the same answer as without the cache, never an exception nothing catches, never a hang.
 */

type Undici = typeof undici7

/** Runs `use` against an Agent of `lib` without the cache and with it, and returns both answers. */
async function bothWays(lib: Undici, use: (agent: undici7.Dispatcher) => Promise<string>) {
  const answers: string[] = []
  for (const cached of [false, true]) {
    const interceptor = cacheInterceptor({ backend: 'memory' })
    const agent = cached ? new lib.Agent().compose(interceptor) : new lib.Agent()
    try {
      answers.push(await use(agent as unknown as undici7.Dispatcher))
    } finally {
      await agent.close()
      await interceptor.cache.close()
    }
  }
  return answers
}

/** Exceptions nothing caught while the test runs (a throw escaping a microtask would crash the process). */
function uncaught(t: TestContext): unknown[] {
  const stray: unknown[] = []
  const onStray = (error: unknown) => stray.push(error)
  process.on('uncaughtException', onStray)
  t.after(() => process.off('uncaughtException', onStray))
  return stray
}

/** The outcome of a promise as text: what it resolved to, or the error's name, code and message. */
function settled(promise: Promise<string>): Promise<string> {
  return promise.then(
    (value) => `ok: ${value}`,
    (error: Error & { code?: string }) => `${error.name} ${error.code ?? ''}: ${error.message}`,
  )
}

for (const [name, lib] of [
  ['npm undici 7', undici7],
  ['npm undici 8', undici8 as unknown as Undici],
] as const) {
  describe(`a caller's handler that throws, with ${name}`, () => {
    test('a stream() factory that throws rejects the call on a miss and on a hit, as without the cache', async (t) => {
      const origin = await startOrigin()
      t.after(() => origin.close())
      const stray = uncaught(t)
      const answers = await bothWays(lib, async (agent) => {
        const url = `${origin.url}/s`
        const body = await lib.request(url, { dispatcher: agent as never })
        await body.body.text()
        const throwing = () => {
          throw new Error('factory boom')
        }
        return settled(lib.stream(url, { dispatcher: agent } as never, throwing).then(() => 'streamed'))
      })
      assert.deepEqual(answers, ['Error : factory boom', 'Error : factory boom'])
      assert.equal(origin.count('/s'), 3, 'the second call with the cache was a hit')
      assert.deepEqual(stray, [])
    })

    test('the dump interceptor over the cache refuses a body past its maxSize on a hit as on a miss', async (t) => {
      const origin = await startOrigin({
        '/big': (_req, res) => {
          res.end('x'.repeat(100))
        },
      })
      t.after(() => origin.close())
      const stray = uncaught(t)
      const answers = await bothWays(lib, async (base) => {
        const agent = base.compose(lib.interceptors.dump({ maxSize: 10 }) as never)
        const get = () => settled(lib.request(`${origin.url}/big`, { dispatcher: agent as never }).then(() => 'answered'))
        return `${await get()} / ${await get()}`
      })
      assert.equal(answers[1], answers[0])
      assert.match(answers[0] as string, /maxSize/)
      assert.equal(origin.count('/big'), 3, 'the second call with the cache was a hit')
      assert.deepEqual(stray, [])
    })

    test('a RetryAgent over the cache retries a 503 and gets the 200, as without the cache', async (t) => {
      let calls = 0
      const origin = await startOrigin({
        '/flaky': (_req, res) => {
          res.statusCode = calls++ % 2 === 0 ? 503 : 200
          res.end(res.statusCode === 200 ? 'recovered' : 'busy')
        },
      })
      t.after(() => origin.close())
      const answers = await bothWays(lib, async (agent) => {
        const retrying = new lib.RetryAgent(agent as never, { statusCodes: [503], minTimeout: 1, maxTimeout: 5 })
        const response = await lib.request(`${origin.url}/flaky`, { dispatcher: retrying })
        return `${response.statusCode} ${await response.body.text()}`
      })
      assert.deepEqual(answers, ['200 recovered', '200 recovered'])
      assert.equal(origin.count('/flaky'), 4)
    })
  })
}
