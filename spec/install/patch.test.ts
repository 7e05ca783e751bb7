import assert from 'node:assert/strict'
import { after, afterEach, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { Agent, getGlobalDispatcher, request, setGlobalDispatcher, fetch as undiciFetch } from 'undici'
import {
  cacheInfo,
  cacheInterceptor,
  clear,
  disabled,
  enabled,
  getCache,
  installCache,
  isInstalled,
  uninstallCache,
} from '../../lib/index.js'
import { type Origin, startOrigin } from '../helpers/origin.js'

const memory = { backend: 'memory' } as const

describe('installCache()', () => {
  let origin: Origin
  let path = 0
  const fresh = () => `${origin.url}/r${++path}`

  before(async () => {
    origin = await startOrigin({
      '/gzip': (_req, res) => {
        res.setHeader('content-encoding', 'gzip')
        res.setHeader('content-type', 'text/plain')
        res.end(gzipSync('compressed hello'))
      },
    })
  })
  after(() => origin.close())
  afterEach(() => uninstallCache())

  it('caches the built-in fetch: a second request never reaches the origin', async () => {
    installCache(memory)
    const url = fresh()
    const first = await fetch(url)
    assert.equal(await first.text(), `hello ${new URL(url).pathname}`)
    const second = await fetch(url)
    assert.equal(await second.text(), `hello ${new URL(url).pathname}`)
    assert.equal(origin.count(new URL(url).pathname), 1)
    assert.equal(cacheInfo(second)?.fromCache, true)
    assert.match(second.headers.get('cache-status') ?? '', /fetch-http-cache; hit/)
  })

  it('caches undici.request() through the global dispatcher', async () => {
    installCache(memory)
    const url = fresh()
    for (let i = 0; i < 3; i++) {
      const response = await request(url)
      assert.equal(await response.body.text(), `hello ${new URL(url).pathname}`)
    }
    assert.equal(origin.count(new URL(url).pathname), 1)
  })

  it('refuses every request once the global dispatcher is closed, even one it holds, as without the cache', async () => {
    const previous = getGlobalDispatcher()
    setGlobalDispatcher(new Agent())
    try {
      installCache(memory)
      const url = fresh()
      await (await request(url)).body.text()
      await getGlobalDispatcher().close()
      const closed = new Agent()
      await closed.close()
      const code = await request(url, { dispatcher: closed }).then(
        () => assert.fail('a closed Agent answered'),
        (error: { code?: string }) => error.code,
      )
      await assert.rejects(request(url), { code })
      assert.equal(origin.count(new URL(url).pathname), 1)
    } finally {
      uninstallCache()
      setGlobalDispatcher(previous)
    }
  })

  it('serves an entry written through fetch to undici.request() and the other way round', async () => {
    installCache(memory)
    const viaFetch = fresh()
    await (await fetch(viaFetch)).text()
    const answer = await request(viaFetch)
    assert.equal(await answer.body.text(), `hello ${new URL(viaFetch).pathname}`)
    assert.match(String(answer.headers['cache-status']), /hit/)
    assert.equal(origin.count(new URL(viaFetch).pathname), 1)

    const viaRequest = fresh()
    await (await request(viaRequest)).body.text()
    const response = await fetch(viaRequest)
    assert.equal(await response.text(), `hello ${new URL(viaRequest).pathname}`)
    assert.equal(cacheInfo(response)?.fromCache, true)
    assert.equal(origin.count(new URL(viaRequest).pathname), 1)
  })

  it('stores a gzip body decoded and serves undici.request() a body without content-coding', async () => {
    installCache(memory)
    const url = `${origin.url}/gzip`
    assert.equal(await (await fetch(url)).text(), 'compressed hello')
    const viaDispatcher = await request(url)
    assert.equal(viaDispatcher.headers['content-encoding'], undefined)
    assert.equal(await viaDispatcher.body.text(), 'compressed hello')
    const again = await fetch(url)
    assert.equal(await again.text(), 'compressed hello')
    assert.equal(origin.count('/gzip'), 1)
  })

  it('caches a fetch reference captured before installCache() ran', async () => {
    const captured = globalThis.fetch
    installCache(memory)
    const url = fresh()
    await (await captured(url)).text()
    const second = await captured(url)
    assert.equal(await second.text(), `hello ${new URL(url).pathname}`)
    assert.equal(origin.count(new URL(url).pathname), 1)
  })

  it("caches npm undici's fetch through the global dispatcher", async () => {
    installCache(memory)
    const url = fresh()
    await (await undiciFetch(url)).text()
    assert.equal(await (await undiciFetch(url)).text(), `hello ${new URL(url).pathname}`)
    assert.equal(origin.count(new URL(url).pathname), 1)
  })

  it('keeps the name, length and property flags of fetch', () => {
    const before = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
    const { name, length } = globalThis.fetch
    installCache(memory)
    const patched = Object.getOwnPropertyDescriptor(globalThis, 'fetch')
    assert.notEqual(patched?.value, before?.value)
    assert.equal(globalThis.fetch.name, name)
    assert.equal(globalThis.fetch.length, length)
    assert.equal(patched?.writable, before?.writable)
    assert.equal(patched?.enumerable, before?.enumerable)
    assert.equal(patched?.configurable, before?.configurable)
  })

  it('restores the exact original fetch and dispatcher on uninstallCache()', async () => {
    const originalFetch = globalThis.fetch
    const originalDispatcher = getGlobalDispatcher()
    installCache(memory)
    assert.notEqual(globalThis.fetch, originalFetch)
    assert.notEqual(getGlobalDispatcher(), originalDispatcher)
    uninstallCache()
    assert.equal(globalThis.fetch, originalFetch)
    assert.equal(getGlobalDispatcher(), originalDispatcher)
    assert.equal(isInstalled(), false)
    const url = fresh()
    await (await fetch(url)).text()
    await (await fetch(url)).text()
    assert.equal(origin.count(new URL(url).pathname), 2)
  })

  it('reconfigures on a second installCache() instead of wrapping twice', async () => {
    const originalFetch = globalThis.fetch
    installCache(memory)
    const wrapper = globalThis.fetch
    installCache({ ...memory, expireAfter: 60 })
    assert.equal(globalThis.fetch, wrapper)
    const url = fresh()
    await (await fetch(url)).text()
    const second = await fetch(url)
    await second.text()
    assert.ok(cacheInfo(second)?.expires, 'the second configuration (expireAfter: 60) is in effect')
    uninstallCache()
    assert.equal(globalThis.fetch, originalFetch)
  })

  it('removes only its own layer when another library wrapped fetch after it', async () => {
    const originalFetch = globalThis.fetch
    installCache(memory)
    const ours = globalThis.fetch
    let calls = 0
    const theirs = (input: string | URL | Request, init?: RequestInit) => {
      calls++
      return ours(input, init)
    }
    globalThis.fetch = theirs as typeof fetch
    try {
      uninstallCache()
      assert.equal(globalThis.fetch, theirs, 'their wrapper stays')
      const url = fresh()
      await (await fetch(url)).text()
      await (await fetch(url)).text()
      assert.equal(calls, 2)
      assert.equal(origin.count(new URL(url).pathname), 2, 'nothing is cached any more')
    } finally {
      globalThis.fetch = originalFetch
    }
  })

  it('exposes the installed cache through getCache() and empties it with clear()', async () => {
    assert.equal(getCache(), undefined)
    installCache(memory)
    const url = fresh()
    await (await fetch(url)).text()
    assert.equal(await getCache()?.count(), 1)
    await clear()
    assert.equal(await getCache()?.count(), 0)
    await (await fetch(url)).text()
    assert.equal(origin.count(new URL(url).pathname), 2)
  })

  it('bypasses the cache inside disabled() while a concurrent task outside is still cached', async () => {
    installCache(memory)
    const inside = fresh()
    const outside = fresh()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const block = disabled(async () => {
      await gate
      for (let i = 0; i < 2; i++) await (await fetch(inside)).text()
    })
    const concurrent = (async () => {
      for (let i = 0; i < 2; i++) await (await fetch(outside)).text()
      release()
    })()
    await Promise.all([block, concurrent])
    assert.equal(origin.count(new URL(inside).pathname), 2)
    assert.equal(origin.count(new URL(outside).pathname), 1)
  })

  it('bypasses undici.request() inside disabled() too', async () => {
    installCache(memory)
    const url = fresh()
    await disabled(async () => {
      for (let i = 0; i < 2; i++) await (await request(url)).body.text()
    })
    assert.equal(origin.count(new URL(url).pathname), 2)
  })
})

describe('enabled()', () => {
  let origin: Origin
  let path = 0
  const fresh = () => `${origin.url}/e${++path}`

  before(async () => {
    origin = await startOrigin()
  })
  after(() => origin.close())
  afterEach(() => uninstallCache())

  it('caches inside the block, not in a concurrent task outside it, and removes the patch after', async () => {
    const originalFetch = globalThis.fetch
    const inside = fresh()
    const outside = fresh()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const block = enabled(async () => {
      for (let i = 0; i < 2; i++) await (await fetch(inside)).text()
      release()
      return 'done'
    }, memory)
    const concurrent = (async () => {
      await gate
      for (let i = 0; i < 2; i++) await (await fetch(outside)).text()
    })()
    const [value] = await Promise.all([block, concurrent])
    assert.equal(value, 'done')
    assert.equal(origin.count(new URL(inside).pathname), 1)
    assert.equal(origin.count(new URL(outside).pathname), 2)
    assert.equal(globalThis.fetch, originalFetch)
    assert.equal(isInstalled(), false)
  })

  it("propagates the block's error and still removes the patch", async () => {
    const originalFetch = globalThis.fetch
    await assert.rejects(
      enabled(() => {
        throw new Error('boom')
      }, memory),
      /boom/,
    )
    assert.equal(globalThis.fetch, originalFetch)
  })

  it('keeps the patch while overlapping blocks run (reference-counted)', async () => {
    const originalFetch = globalThis.fetch
    let releaseFirst: () => void = () => {}
    const firstGate = new Promise<void>((resolve) => {
      releaseFirst = resolve
    })
    const url = fresh()
    const first = enabled(async () => {
      await firstGate
    }, memory)
    await enabled(async () => {
      await (await fetch(url)).text()
      await (await fetch(url)).text()
    }, memory)
    assert.notEqual(globalThis.fetch, originalFetch, 'the first block still runs')
    releaseFirst()
    await first
    assert.equal(globalThis.fetch, originalFetch)
    assert.equal(origin.count(new URL(url).pathname), 1)
  })

  it('lets the innermost block win when nested', async () => {
    const url = fresh()
    await enabled(async () => {
      await disabled(async () => {
        await (await fetch(url)).text()
        await (await fetch(url)).text()
      })
      await (await fetch(url)).text()
      await (await fetch(url)).text()
    }, memory)
    assert.equal(origin.count(new URL(url).pathname), 3)
  })

  it('uses the installed cache when called without options', async () => {
    installCache(memory)
    const url = fresh()
    await disabled(() =>
      enabled(async () => {
        await (await fetch(url)).text()
      }),
    )
    assert.equal(await getCache()?.count(), 1)
  })
})

describe('cacheInterceptor()', () => {
  it('caches requests on a dispatcher composed by hand', async () => {
    const origin = await startOrigin()
    try {
      const { Agent } = await import('undici')
      const agent = new Agent().compose(cacheInterceptor(memory))
      for (let i = 0; i < 3; i++) await (await request(`${origin.url}/hand`, { dispatcher: agent })).body.text()
      assert.equal(origin.count('/hand'), 1)
      await agent.close()
    } finally {
      await origin.close()
    }
  })
})
