import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test } from 'node:test'
import { DO_NOT_CACHE } from '../../lib/index.js'
import type { CacheOptions } from '../../lib/options/types.js'
import { type FrontResponse, forEachFront } from '../helpers/fronts.js'
import type { Route } from '../helpers/origin.js'
import { type FrontSetup, gate, startPerTestOn, waitFor } from './fixtures.js'

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

  // node:http: each caller's own connection carries its answer, so a leader that does not read (or
  // aborts) would hold (or end) the others' bodies: its requests are never coalesced.
  if (kind.name === 'node:http') {
    test('identical concurrent misses each go to the origin on their own connection; the next request hits', async () => {
      const open = gate()
      const { front, origin, url } = await start({}, { '/slow': held(open.promise, 'own body') })
      const pending = Array.from({ length: 3 }, () => front.get(url('/slow')))
      await waitFor(() => origin.count('/slow') === 3, 'three requests at the origin')
      open.open()
      const bodies = await Promise.all((await Promise.all(pending)).map((response) => response.text()))
      assert.deepEqual(bodies, Array(3).fill('own body'))
      assert.equal(front.cache.stats().coalesced, 0)
      const hit = await front.get(url('/slow'))
      assert.equal(hit.fromCache, true)
      assert.equal(origin.count('/slow'), 3)
    })
    return
  }

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

  test('a caller’s signal is let go once it has its answer: misses sharing one AbortSignal leave no listener on it', async () => {
    const { front, origin, url } = await start({}, { '/each': (req, res) => void res.end(`body of ${req.url}`) })
    const controller = new AbortController()
    for (let i = 0; i < 50; i++) {
      const response = await front.get(url(`/each?${i}`), { signal: controller.signal })
      assert.equal(await response.text(), `body of /each?${i}`)
    }
    assert.equal(origin.count(), 50)
    // undici.request() itself lets go of its listener a turn after the body closes, with or without the cache.
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
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

  test('one caller aborting its body mid-read leaves the others unharmed, and the entry is stored', async () => {
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
  })

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

/**
 * A route that numbers its answers (`answer n`, `Set-Cookie: sid=user-n` when `cookie`) and holds the
 * first until the gate opens; `status` and `headers` as given.
 */
function numberedAnswers(opened: Promise<void>, headers: Record<string, string>, cookie = false, status = 200): Route {
  let n = 0
  return async (_req: IncomingMessage, res: ServerResponse) => {
    const mine = ++n
    if (mine === 1) await opened
    res.statusCode = status
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
    if (cookie) res.setHeader('set-cookie', `sid=user-${mine}`)
    res.end(`answer ${mine}`)
  }
}

/** What identical concurrent misses may not share (RFC 9111 §4), each case with the options that make it so. */
const UNSHARED: readonly {
  name: string
  options: CacheOptions
  headers: Record<string, string>
  cookie?: true
  status?: number
}[] = [
  { name: 'Set-Cookie, in the default mode', options: {}, headers: {}, cookie: true },
  {
    name: 'Set-Cookie, in a shared cache',
    options: { cacheControl: 'shared' },
    headers: { 'cache-control': 'max-age=600' },
    cookie: true,
  },
  {
    name: 'private, in a shared cache',
    options: { cacheControl: 'shared' },
    headers: { 'cache-control': 'private, max-age=600' },
  },
  { name: 'no-store', options: { cacheControl: true }, headers: { 'cache-control': 'no-store' } },
  { name: 'no-cache', options: { cacheControl: true }, headers: { 'cache-control': 'no-cache' } },
  { name: 'max-age=0', options: { cacheControl: true }, headers: { 'cache-control': 'max-age=0' } },
  { name: 'Vary: *', options: { cacheControl: true }, headers: { 'cache-control': 'max-age=600', vary: '*' } },
  { name: 'a status outside allowableCodes', options: {}, headers: {}, status: 500 },
  { name: 'expireAfter DO_NOT_CACHE', options: { expireAfter: DO_NOT_CACHE }, headers: {} },
  { name: 'a filter that refuses it', options: { filter: () => false }, headers: {} },
  { name: 'a Content-Length above maxEntrySize', options: { maxEntrySize: 4 }, headers: {} },
]

forEachFront('coalescing: an answer the cache may not reuse', (kind) => {
  const start = startPerTestOn(kind)

  for (const { name, options, headers, cookie, status } of UNSHARED) {
    test(`RFC 9111 §4: ${name}: each waiting caller sends its own request and gets its own answer`, async () => {
      const open = gate()
      const { front, origin, url } = await start(options, { '/own': numberedAnswers(open.promise, headers, cookie, status) })
      const pending = Array.from({ length: 3 }, () => front.get(url('/own')))
      // Every caller is either at the origin or waiting on the first one's request.
      await waitFor(() => origin.count('/own') + front.cache.stats().coalesced === 3, 'three callers in')
      open.open()
      const responses = await Promise.all(pending)
      const bodies = await Promise.all(responses.map((response) => response.text()))
      assert.deepEqual(bodies.toSorted(), ['answer 1', 'answer 2', 'answer 3'])
      if (cookie) {
        const cookies = responses.map((response) => response.header('set-cookie'))
        assert.deepEqual(cookies.toSorted(), ['sid=user-1', 'sid=user-2', 'sid=user-3'], 'no caller got another’s cookie')
      }
      assert.equal(origin.count('/own'), 3)
      const { misses, bypasses, coalesced } = front.cache.stats()
      assert.deepEqual({ own: misses + bypasses, coalesced }, { own: 3, coalesced: 0 }, 'each counted once, as its own request')
    })
  }

  test('with a filter, waiting callers get the answer from the entry once the filter let it be stored', async () => {
    const open = gate()
    const { front, origin, url } = await start({ filter: () => true }, { '/own': numberedAnswers(open.promise, {}) })
    const pending = Array.from({ length: 3 }, () => front.get(url('/own')))
    await waitFor(() => origin.count('/own') + front.cache.stats().coalesced === 3, 'three callers in')
    open.open()
    const responses = await Promise.all(pending)
    const shared = kind.name === 'node:http' ? ['answer 1', 'answer 2', 'answer 3'] : Array(3).fill('answer 1')
    assert.deepEqual((await Promise.all(responses.map((response) => response.text()))).toSorted(), shared)
    assert.equal(origin.count('/own'), kind.name === 'node:http' ? 3 : 1)
    const { hits, misses, coalesced } = front.cache.stats()
    const counted = kind.name === 'node:http' ? { hits: 0, misses: 3, coalesced: 0 } : { hits: 2, misses: 1, coalesced: 0 }
    assert.deepEqual({ hits, misses, coalesced }, counted, 'the waiting callers are counted as the hits they were')
  })

  test('a private cache shares an answer with Set-Cookie among identical requests (it would replay it to them)', async () => {
    const open = gate()
    const headers = { 'cache-control': 'max-age=600' }
    const { front, origin, url } = await start({ cacheControl: true }, { '/own': numberedAnswers(open.promise, headers, true) })
    const pending = Array.from({ length: 3 }, () => front.get(url('/own'), { headers: { cookie: 'a=1' } }))
    await waitFor(() => origin.count('/own') + front.cache.stats().coalesced === 3, 'three callers in')
    open.open()
    const responses = await Promise.all(pending)
    const expected = kind.name === 'node:http' ? ['answer 1', 'answer 2', 'answer 3'] : Array(3).fill('answer 1')
    assert.deepEqual((await Promise.all(responses.map((response) => response.text()))).toSorted(), expected)
  })
})

/** `size` bytes of numbered lines: no stretch repeats, so a body spliced at the wrong offset shows. */
function numbered(size: number): string {
  let text = ''
  for (let i = 0; text.length < size; i++) text += `${i}\n`
  return text.slice(0, size)
}

/**
 * A route that holds its answer until the gate opens, then sends `body` in 64 KiB writes as fast as the
 * reader takes them; `etag` gives each answer its validator (by how many requests came before);
 * `chunked` sends no Content-Length, so how large the body is shows only as it arrives.
 */
function streamed(opened: Promise<void>, body: string, etag: (n: number) => string = () => '"same"', chunked = false): Route {
  let n = 0
  return async (_req: IncomingMessage, res: ServerResponse) => {
    const tag = etag(n++)
    await opened
    const length: Record<string, string> = chunked ? {} : { 'content-length': String(body.length) }
    res.writeHead(200, { 'content-type': 'text/plain', ...length, etag: tag })
    for (let sent = 0; sent < body.length; sent += 64 * 1024)
      if (!res.write(body.slice(sent, sent + 64 * 1024))) await new Promise((resolve) => res.once('drain', resolve))
    res.end()
  }
}

forEachFront('coalescing: a caller that falls behind', (kind) => {
  const start = startPerTestOn(kind)

  test('a first caller that never reads its body holds nobody: the second reads all of its own', async () => {
    const open = gate()
    const body = numbered(2 * 1024 * 1024)
    const route = streamed(open.promise, body, undefined, true)
    const { front, origin, url } = await start({ maxEntrySize: 256 * 1024 }, { '/big': route })
    const pending = [front.get(url('/big')), front.get(url('/big'))]
    await waitFor(() => origin.count('/big') >= 1, 'the first request at the origin')
    open.open()
    const [first, second] = (await Promise.all(pending)) as [FrontResponse, FrontResponse]
    assert.equal(await second.text(), body)
    await first.cancel()
  })
  if (kind.name === 'node:http') return // never coalesced (see above): nobody falls behind another

  /** Two coalesced requests for `path`: the first read to the end, then the second. */
  async function readOneThenTheOther(front: FrontSetup['front'], url: string, origin: FrontSetup['origin'], open: () => void) {
    const pending = [front.get(url), front.get(url)]
    await waitFor(() => origin.count() === 1, 'the shared request')
    open()
    const [first, second] = (await Promise.all(pending)) as [FrontResponse, FrontResponse]
    return { first: await first.text(), second: () => second.text() }
  }

  test('is detached, not failed: once the shared answer is stored, it reads the rest from the entry', async () => {
    const open = gate()
    const body = numbered(3 * 1024 * 1024)
    const { front, origin, url } = await start({}, { '/big': streamed(open.promise, body) })
    const { first, second } = await readOneThenTheOther(front, url('/big'), origin, open.open)
    assert.equal(first, body)
    assert.equal(await second(), body)
    assert.equal(origin.count('/big'), 1, 'no second origin request: the entry answered')
    assert.equal((await front.get(url('/big'))).fromCache, true)
  })

  // An answer whose Content-Length is above maxEntrySize is not shared at all (see above): these share
  // one of unknown length, which turns out too large to store as it arrives.
  test('is detached, not failed: an answer too large to store is asked again for it, and it gets the whole body', async () => {
    const open = gate()
    const body = numbered(2 * 1024 * 1024)
    const route = streamed(open.promise, body, undefined, true)
    const { front, origin, url } = await start({ maxEntrySize: 256 * 1024 }, { '/big': route })
    const { first, second } = await readOneThenTheOther(front, url('/big'), origin, open.open)
    assert.equal(first, body)
    assert.equal(await second(), body)
    assert.equal(origin.count('/big'), 2, 'its own origin request')
  })

  test('is detached, not failed: having read part of it, it gets the rest from its own request, the bytes it had skipped', async () => {
    const open = gate()
    const body = numbered(2 * 1024 * 1024)
    const route = streamed(open.promise, body, undefined, true)
    const { front, origin, url } = await start({ maxEntrySize: 256 * 1024 }, { '/big': route })
    const pending = [front.get(url('/big')), front.get(url('/big'))]
    await waitFor(() => origin.count() === 1, 'the shared request')
    open.open()
    const [fast, slow] = (await Promise.all(pending)) as [FrontResponse, FrontResponse]
    const chunks = slow.body[Symbol.asyncIterator]()
    const head = await chunks.next()
    assert.ok(!head.done && head.value.byteLength > 0)
    assert.equal(await fast.text(), body)
    const parts = [Buffer.from(head.value)]
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) parts.push(Buffer.from(next.value))
    assert.equal(Buffer.concat(parts).toString(), body)
    assert.equal(origin.count('/big'), 2, 'its own origin request')
  })

  test('asked again, an origin that answers with another response ends its body with SlowReaderError, never a splice', async () => {
    const open = gate()
    const body = numbered(2 * 1024 * 1024)
    const route = streamed(open.promise, body, (n) => `"v${n}"`, true)
    const { front, origin, url } = await start({ maxEntrySize: 256 * 1024 }, { '/big': route })
    const { first, second } = await readOneThenTheOther(front, url('/big'), origin, open.open)
    assert.equal(first, body)
    await assert.rejects(second(), (error: Error) => {
      const slow = error.name === 'SlowReaderError' ? error : (error.cause as Error | undefined)
      assert.equal(slow?.name, 'SlowReaderError', String(error))
      return true
    })
    assert.equal(origin.count('/big'), 2)
  })
})
