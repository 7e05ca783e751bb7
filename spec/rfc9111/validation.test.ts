import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig, stored } from './harness.js'

forEachFront('RFC 9111 §4.3 validation (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/validate/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  /** Stored stale (Age past max-age) with the given validator; the origin answers 304 when it matches. */
  function staleWith(p: string, validator: Record<string, string>, notModified: Record<string, string | string[]> = {}) {
    r.answer(p, (req) => {
      const conditional = req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined
      if (conditional) return { status: 304, headers: { ...validator, ...notModified } }
      return {
        headers: { 'cache-control': 'max-age=1', age: '5', date: httpDate(), ...validator, 'x-test': 'A' },
        body: 'stored body',
      }
    })
  }

  it('§4.3.1 revalidates a stale response with its strong ETag in If-None-Match', async () => {
    const p = path()
    staleWith(p, { etag: '"abc"' })
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], '"abc"')
    assert.equal(response.status, 200)
    assert.equal(text, 'stored body')
    assert.equal(response.revalidated, true)
  })

  it('§4.3.1 revalidates with a weak ETag as it was received', async () => {
    const p = path()
    staleWith(p, { etag: 'W/"abc"' })
    await get(r, p)
    await get(r, p)
    assert.equal(r.origin.requests.at(-1)?.headers['if-none-match'], 'W/"abc"')
  })

  it('§4.3.1 revalidates with Last-Modified in If-Modified-Since', async () => {
    const p = path()
    const lm = httpDate(-86400)
    staleWith(p, { 'last-modified': lm })
    await get(r, p)
    const { text } = await get(r, p)
    assert.equal(r.origin.requests.at(-1)?.headers['if-modified-since'], lm)
    assert.equal(text, 'stored body')
  })

  it('§4.3.1 sends both validators when the response has both', async () => {
    const p = path()
    const lm = httpDate(-86400)
    staleWith(p, { etag: '"both"', 'last-modified': lm })
    await get(r, p)
    await get(r, p)
    const seen = r.origin.requests.at(-1)?.headers
    assert.equal(seen?.['if-none-match'], '"both"')
    assert.equal(seen?.['if-modified-since'], lm)
  })

  it('§4.3.1 does not send an invalid Last-Modified as If-Modified-Since', async () => {
    const p = path()
    staleWith(p, { etag: '"e"', 'last-modified': 'yesterday' })
    await get(r, p)
    await get(r, p)
    assert.equal(r.origin.requests.at(-1)?.headers['if-modified-since'], undefined)
  })

  it('§4.3.4 a 304 updates the returned and the stored header fields, and the freshness', async () => {
    const p = path()
    staleWith(p, { etag: '"u"' }, { 'cache-control': 'max-age=3600', 'x-test': 'B', 'content-type': 'text/x-new' })
    await get(r, p)
    const revalidated = await get(r, p)
    assert.equal(revalidated.response.headers.get('x-test'), 'B')
    assert.equal(revalidated.response.headers.get('content-type'), 'text/x-new')
    const reused = await get(r, p)
    assert.equal(r.origin.count(p), 2)
    assert.equal(reused.response.fromCache, true)
    assert.equal(reused.response.headers.get('x-test'), 'B')
    assert.equal(reused.text, 'stored body')
  })

  it('§4.3.4 later reuse goes by the Age and Cache-Control of the 304, not those of the first response', async (t) => {
    const own = await rig(front) // its clock moves: a rig of its own
    t.after(() => own.close())
    const p = '/facts'
    own.answer(p, (req) => {
      if (req.headers['if-none-match'] === '"f"') {
        return {
          status: 304,
          headers: { etag: '"f"', 'cache-control': 'max-age=3600, must-revalidate', age: '100', date: httpDate() },
        }
      }
      return { headers: { etag: '"f"', 'cache-control': 'max-age=1', age: '5', date: httpDate() }, body: 'stored body' }
    })
    await get(own, p)
    assert.equal((await get(own, p)).response.revalidated, true)
    const reused = await get(own, p)
    assert.equal(reused.response.fromCache, true)
    assert.equal(own.origin.count(p), 2)
    // §4.2.3: the age counts from the 304's Age (100 s), not from the first response's (5 s).
    assert.ok(Number(reused.response.headers.get('age')) >= 100, `Age ${reused.response.headers.get('age')}`)
    // §5.2.2.2: once stale, the 304's must-revalidate forbids what the first response allowed: max-stale.
    own.clock.advance(4000_000)
    await get(own, p, { headers: { 'cache-control': 'max-stale=100000' } })
    assert.equal(own.origin.count(p), 3, 'revalidated, not served stale')
  })

  it('§4.3.4 a 304 that omits a field keeps the stored one', async () => {
    const p = path()
    staleWith(p, { etag: '"k"' }, { 'cache-control': 'max-age=3600' })
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(response.revalidated, true, 'the stored response, after a 304')
    assert.equal(text, 'stored body')
    assert.equal(response.headers.get('x-test'), 'A')
    // And the entry the 304 renewed keeps it too.
    const reused = await get(r, p)
    assert.equal(reused.response.hit, true)
    assert.equal(r.origin.count(p), 2)
    assert.equal(reused.response.headers.get('x-test'), 'A')
  })

  it('§3.2 a 304 does not change Content-Length (the stored body keeps its length)', async () => {
    const p = path()
    let calls = 0
    r.origin.route(p, (req, res) => {
      if (calls++ > 0 && req.headers['if-none-match']) {
        res.statusCode = 304
        res.setHeader('etag', '"len"')
        res.setHeader('content-length', '999')
        res.setHeader('cache-control', 'max-age=3600')
        return void res.end()
      }
      res.setHeader('etag', '"len"')
      res.setHeader('cache-control', 'max-age=1')
      res.setHeader('age', '5')
      res.end('12345')
    })
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(response.revalidated, true, 'the stored response, after a 304 with Content-Length: 999')
    assert.equal(r.origin.count(p), 2)
    assert.equal(text, '12345')
    assert.equal(response.headers.get('content-length'), '5')
    const reused = await get(r, p)
    assert.equal(reused.response.hit, true)
    assert.equal(reused.response.headers.get('content-length'), '5')
    assert.equal(r.origin.count(p), 2)
  })

  it('§4.3.4 each revalidation works, not only every other one', async () => {
    const p = path()
    staleWith(p, { etag: '"again"' }, { 'cache-control': 'max-age=1', age: '5' })
    await get(r, p)
    for (let i = 0; i < 3; i++) {
      const { response, text } = await get(r, p)
      assert.equal(response.revalidated, true)
      assert.equal(text, 'stored body')
    }
    assert.equal(r.origin.count(p), 4)
  })

  it('§4.3.3 a 200 answer to a revalidation replaces the stored response', async () => {
    const p = path()
    r.answer(
      p,
      { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"1"' }, body: 'one' },
      { headers: { 'cache-control': 'max-age=3600', etag: '"2"' }, body: 'two' },
    )
    await get(r, p)
    assert.equal((await get(r, p)).text, 'two')
    assert.equal((await get(r, p)).text, 'two')
    assert.equal(r.origin.count(p), 2)
  })

  it('§4.3.4 a 304 naming another strong ETag does not update the stored response: it is fetched again', async () => {
    const p = path()
    r.answer(
      p,
      { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"1"' }, body: 'one' },
      { status: 304, headers: { etag: '"other"' } },
      { headers: { etag: '"2"', 'cache-control': 'max-age=3600' }, body: 'two' },
    )
    await get(r, p)
    const { response, text } = await get(r, p)
    assert.equal(response.status, 200)
    assert.equal(text, 'two')
    assert.deepEqual(
      r.origin.requests.filter((q) => q.path === p).map((q) => q.headers['if-none-match']),
      [undefined, '"1"', undefined],
    )
    assert.equal((await stored(r, p))?.headers.get('etag'), '"2"', 'the new response replaced the stored one')
  })

  for (const [kind, stored200, notModified] of [
    ['weak ETag', { etag: 'W/"1"' }, { etag: 'W/"2"' }],
    ['Last-Modified', { 'last-modified': httpDate(-3600) }, { 'last-modified': httpDate(-60) }],
  ] as const) {
    it(`§4.3.4 a 304 naming another ${kind} does not update the stored response: it is fetched again`, async () => {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1', age: '5', ...stored200 }, body: 'one' },
        { status: 304, headers: { 'cache-control': 'max-age=3600', ...notModified } },
        { headers: { 'cache-control': 'max-age=3600', ...notModified }, body: 'two' },
      )
      await get(r, p)
      const { response, text } = await get(r, p)
      assert.equal(response.status, 200)
      assert.equal(text, 'two', 'the old body is not served under the new validator')
      assert.equal(r.origin.count(p), 3)
      assert.equal((await get(r, p)).text, 'two')
    })
  }

  it('§4.3.4 a 304 naming the same weak ETag, or the same Last-Modified, updates the stored response', async () => {
    for (const validator of [{ etag: 'W/"1"' }, { 'last-modified': httpDate(-3600) }]) {
      const p = path()
      r.answer(
        p,
        { headers: { 'cache-control': 'max-age=1', age: '5', ...validator }, body: 'one' },
        { status: 304, headers: { 'cache-control': 'max-age=3600', ...validator } },
      )
      await get(r, p)
      const revalidated = await get(r, p)
      assert.equal(revalidated.text, 'one')
      assert.equal(revalidated.response.revalidated, true)
      assert.equal(r.origin.count(p), 2)
    }
  })

  it("§4.3.2 a caller's own conditional request goes to the origin, and its 304 passes through unstored", async () => {
    const p = path()
    r.answer(p, (req) =>
      req.headers['if-none-match'] === '"mine"'
        ? { status: 304, headers: { etag: '"mine"', 'cache-control': 'max-age=3600' } }
        : { headers: { etag: '"mine"', 'cache-control': 'max-age=3600' }, body: 'full' },
    )
    const conditional = await get(r, p, { headers: { 'if-none-match': '"mine"' } })
    assert.equal(conditional.response.status, 304)
    const plain = await get(r, p)
    assert.equal(plain.response.status, 200)
    assert.equal(plain.text, 'full')
    assert.equal(r.origin.count(p), 2)
  })

  it('§4.3.2 a conditional request is passed through even when a fresh response is stored', async () => {
    const p = path()
    r.answer(p, (req) => (req.headers['if-modified-since'] ? { status: 304 } : { headers: { 'cache-control': 'max-age=3600' } }))
    await get(r, p)
    const { response } = await get(r, p, { headers: { 'if-modified-since': httpDate(-10) } })
    assert.equal(response.status, 304)
    assert.equal(r.origin.count(p), 2)
  })

  it('§3 never stores a 304 that arrives for an unconditional request', async () => {
    const p = path()
    r.answer(
      p,
      { status: 304, headers: { 'cache-control': 'max-age=3600', etag: '"x"' } },
      { headers: { 'cache-control': 'max-age=3600' }, body: 'ok' },
    )
    assert.equal((await get(r, p)).response.status, 304)
    assert.equal((await get(r, p)).text, 'ok')
  })
})

for (const cacheControl of [false, true, 'shared'] as const) {
  forEachFront(`RFC 9111 §4.3.2 preconditions only the origin evaluates (cacheControl: ${cacheControl})`, (front) => {
    let r: Rig
    before(async () => {
      r = await rig(front, { cacheControl })
    })
    after(() => r.close())

    const preconditions: [string, string][] = [
      ['if-match', '"other"'],
      ['if-unmodified-since', httpDate(-3600)],
    ]
    for (const [field, value] of preconditions) {
      it(`a request with ${field} goes to the origin, which answers it, though a fresh response is stored`, async () => {
        const p = `/precondition/${field}`
        r.answer(p, (req) =>
          req.headers[field] !== undefined
            ? { status: 412, body: 'precondition failed' }
            : { headers: { etag: '"current"', 'cache-control': 'max-age=3600' }, body: 'current' },
        )
        await get(r, p)
        assert.equal((await get(r, p)).response.hit, true, 'a fresh response is stored')
        const { response } = await get(r, p, { headers: { [field]: value } })
        assert.equal(response.status, 412)
        assert.equal(response.fromCache, false)
        assert.equal(r.origin.count(p), 2)
        assert.equal((await get(r, p)).text, 'current', 'the stored response stays')
      })
    }
  })
}
