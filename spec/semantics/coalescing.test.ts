import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { gate, startPerTestOn, waitFor } from './fixtures.js'

/** A route that holds its answer until the gate opens, then sends `body` in two chunks. */
function held(opened: Promise<void>, body: string): Route {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    await opened
    res.setHeader('content-type', 'text/plain')
    res.write(body.slice(0, body.length / 2))
    res.end(body.slice(body.length / 2))
  }
}

forEachFront('coalescing', (kind) => {
  const start = startPerTestOn(kind)

  test('identical concurrent misses share one origin request, and every caller gets its own body', async () => {
    const open = gate()
    const { front, origin, url } = await start({}, { '/slow': held(open.promise, 'shared body') })
    const pending = Array.from({ length: 5 }, () => front.get(url('/slow')))
    await waitFor(() => origin.count('/slow') === 1, 'the first request to reach the origin')
    open.open()
    const responses = await Promise.all(pending)
    assert.equal(new Set(responses.map((response) => response.raw)).size, 5, 'five distinct responses')
    const bodies = await Promise.all(responses.map((response) => response.text()))
    assert.deepEqual(bodies, Array(5).fill('shared body'))
    assert.equal(origin.count('/slow'), 1)
    assert.equal((await front.get(url('/slow'))).fromCache, true)
    assert.equal(origin.count('/slow'), 1)
  })

  test('one caller aborting before the answer leaves the others unharmed', async () => {
    const open = gate()
    const { front, origin, url } = await start({}, { '/slow': held(open.promise, 'still here') })
    const controller = new AbortController()
    const first = front.get(url('/slow'))
    const aborted = front.get(url('/slow'), { signal: controller.signal })
    const third = front.get(url('/slow'))
    await waitFor(() => origin.count('/slow') === 1, 'the shared request')
    controller.abort()
    await assert.rejects(aborted, { name: 'AbortError' })
    open.open()
    assert.equal(await (await first).text(), 'still here')
    assert.equal(await (await third).text(), 'still here')
    assert.equal(origin.count('/slow'), 1)
  })

  // node:http: the first caller's own connection carries the shared answer, and its abort destroys
  // that connection (as Node does without the cache), so the others' copies end with it.
  const leaderOwnsConnection =
    kind.name === 'node:http' ? { todo: 'node:http: the leader’s abort ends the shared connection' } : {}
  test(
    'one caller aborting its body mid-read leaves the others unharmed, and the entry is stored',
    leaderOwnsConnection,
    async () => {
      const open = gate()
      const big = 'b'.repeat(256 * 1024)
      const { front, origin, url } = await start({}, { '/big': held(open.promise, big) })
      const controller = new AbortController()
      const leaving = front.get(url('/big'), { signal: controller.signal })
      const staying = front.get(url('/big'))
      await waitFor(() => origin.count('/big') === 1, 'the shared request')
      open.open()
      const chunks = (await leaving).body[Symbol.asyncIterator]()
      await chunks.next()
      controller.abort()
      await assert.rejects(chunks.next(), { name: 'AbortError' })
      assert.equal((await (await staying).text()).length, big.length)
      assert.equal((await front.get(url('/big'))).fromCache, true)
      assert.equal(origin.count('/big'), 1)
    },
  )

  test('an origin error reaches every caller', async () => {
    const open = gate()
    const { front, origin, url } = await start(
      {},
      {
        '/broken': async (req) => {
          await open.promise
          req.socket.destroy()
        },
      },
    )
    const pending = Array.from({ length: 3 }, () => front.get(url('/broken')))
    await waitFor(() => origin.count('/broken') === 1, 'the shared request')
    open.open()
    const results = await Promise.allSettled(pending)
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected', 'rejected'],
    )
    assert.equal(origin.count('/broken'), 1)
  })

  test('coalesce: false sends every request', async () => {
    const open = gate()
    const { front, origin, url } = await start({ coalesce: false }, { '/slow': held(open.promise, 'x') })
    const pending = Array.from({ length: 3 }, () => front.get(url('/slow')))
    await waitFor(() => origin.count('/slow') === 3, 'three requests at the origin')
    open.open()
    for (const response of await Promise.all(pending)) assert.equal(await response.text(), 'x')
  })

  test('requests with different keys are not coalesced', async () => {
    const open = gate()
    const { front, origin, url } = await start({}, { '/slow': held(open.promise, 'x') })
    const pending = [
      front.get(url('/slow?a=1')),
      front.get(url('/slow?a=2')),
      front.get(url('/slow'), { headers: { authorization: 'Bearer t' } }),
    ]
    await waitFor(() => origin.count() === 3, 'three requests at the origin')
    open.open()
    await Promise.all((await Promise.all(pending)).map((response) => response.text()))
  })
})
