import assert from 'node:assert/strict'
import { afterEach, it } from 'node:test'
import { getGlobalDispatcher, MockAgent, setGlobalDispatcher } from 'undici'
import { installCache, uninstallCache } from '../../lib/index.js'

/** undici's MockAgent as the global dispatcher, with the cache installed over it (as README "In tests" allows). */
const original = getGlobalDispatcher()
afterEach(() => {
  uninstallCache()
  setGlobalDispatcher(original)
})

for (const order of ['MockAgent, then installCache()', 'installCache(), then MockAgent, then installCache() again'] as const) {
  it(`${order}: fetch hands a POST body to the mock's body matcher as without the cache, and the mock's own API answers`, async () => {
    const mockAgent = new MockAgent()
    mockAgent.disableNetConnect()
    if (order.startsWith('installCache')) installCache({ backend: 'memory' })
    setGlobalDispatcher(mockAgent)
    installCache({ backend: 'memory' })
    mockAgent.get('http://api.test').intercept({ path: '/items', method: 'POST', body: 'x=1' }).reply(201, 'created')
    const response = await fetch('http://api.test/items', { method: 'POST', body: 'x=1' })
    assert.equal(response.status, 201)
    assert.equal(await response.text(), 'created')
    const global = getGlobalDispatcher() as unknown as MockAgent & { isMockActive: boolean }
    assert.equal(global.isMockActive, true)
    global.assertNoPendingInterceptors()
    global.get('http://api.test').intercept({ path: '/later' }).reply(200, 'later')
    assert.equal(global.pendingInterceptors().length, 1)
    assert.equal(await (await fetch('http://api.test/later')).text(), 'later')
  })
}
