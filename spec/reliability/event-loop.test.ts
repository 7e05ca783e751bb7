import assert from 'node:assert/strict'
import { it, type TestContext } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { startOrigin } from '../helpers/origin.js'

/**
 * Hits from a synchronous store are answered without a turn of the event loop, but a caller looping
 * over them must not starve it (engine/loop-turns.ts): a network answer never would. Each loop below
 * is bounded in time, and ends as soon as what it waits for happened.
 */
forEachFront('a caller looping over hits lets the event loop turn', (kind) => {
  /** An origin and a memory cache through this front, both closed after the test. */
  async function openFront(t: TestContext) {
    const origin = await startOrigin()
    const front = kind.open({ backend: 'memory' })
    t.after(async () => {
      await front.close()
      await origin.close()
    })
    return { origin, front }
  }

  it('timers fire while the hits go on', async (t) => {
    const { origin, front } = await openFront(t)
    const url = `${origin.url}/loop`
    await (await front.get(url)).text()
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    t.after(() => clearInterval(timer))
    const until = performance.now() + 2000
    let hits = 0
    while (ticks < 3 && performance.now() < until) {
      const response = await front.get(url)
      await response.text()
      assert.equal(response.hit, true)
      hits++
    }
    assert.ok(ticks >= 3, `an interval ticked ${ticks} times in ${hits} hits`)
    assert.equal(origin.count('/loop'), 1)
  })

  it('a keep-alive connection the origin closes while the hits go on is not reused by the next miss', async (t) => {
    const { origin, front } = await openFront(t)
    // The origin closes an idle connection after 20 ms (Node 24 and later add a buffer, set to none).
    const { server } = origin
    server.keepAliveTimeout = 20
    Object.assign(server, { keepAliveTimeoutBuffer: 0 })
    let closed = false
    server.on('connection', (socket) => socket.on('close', () => (closed = true)))
    const url = `${origin.url}/keep-alive`
    await (await front.get(url)).text()
    const until = performance.now() + 3000
    while (!closed && performance.now() < until) await (await front.get(url)).text()
    assert.equal(closed, true, 'the origin closed the idle connection while the hits went on')
    // The client reads that close once the loop has turned again (as after any wait on the network).
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve))
    const miss = await front.get(`${origin.url}/after`)
    assert.equal(await miss.text(), 'hello /after')
    assert.equal(miss.status, 200)
  })
})
