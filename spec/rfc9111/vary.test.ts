import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { forEachFront } from '../helpers/fronts.js'
import { get, httpDate, type Rig, rig } from './harness.js'

forEachFront('RFC 9111 §4.1 Vary (cacheControl: true)', (front) => {
  let r: Rig
  let n = 0
  const path = () => `/vary/${++n}`
  before(async () => {
    r = await rig(front)
  })
  after(() => r.close())

  /** An origin whose body names the request's value of `header`. */
  function varying(p: string, vary: string | string[], header = 'foo') {
    r.answer(p, (req) => ({
      headers: { 'cache-control': 'max-age=3600', date: httpDate(), vary },
      body: `${header}=${req.headers[header] ?? '(none)'}`,
    }))
  }
  const send = (p: string, headers: Record<string, string> = {}) => get(r, p, { headers })

  it('reuses a response when the selecting header matches', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: '1' })
    assert.equal((await send(p, { foo: '1' })).text, 'foo=1')
    assert.equal(r.origin.count(p), 1)
  })

  it('does not reuse it when the selecting header differs or is missing', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: '1' })
    assert.equal((await send(p, { foo: '2' })).text, 'foo=2')
    assert.equal((await send(p)).text, 'foo=(none)')
    assert.equal(r.origin.count(p), 3)
  })

  it('keeps several variants side by side: a new variant does not evict an older one', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: '1' })
    await send(p, { foo: '2' })
    assert.equal((await send(p, { foo: '1' })).text, 'foo=1')
    assert.equal((await send(p, { foo: '2' })).text, 'foo=2')
    assert.equal(r.origin.count(p), 2)
  })

  it('ignores headers Vary does not name', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: '1', other: '2' })
    await send(p, { foo: '1', other: '3' })
    assert.equal(r.origin.count(p), 1)
  })

  it('matches every header of a multi-field Vary, whatever the order of the request headers', async () => {
    const p = path()
    varying(p, 'Foo, Bar, Baz')
    await send(p, { foo: '1', bar: 'abc', baz: '789' })
    await send(p, { baz: '789', bar: 'abc', foo: '1' })
    assert.equal(r.origin.count(p), 1)
    await send(p, { foo: '1', bar: 'abc4', baz: '789' })
    assert.equal(r.origin.count(p), 2)
  })

  it('treats a header absent from both requests as matching', async () => {
    const p = path()
    varying(p, ['Foo', 'Bar'])
    await send(p, { foo: '1' })
    await send(p, { foo: '1' })
    assert.equal(r.origin.count(p), 1)
    await send(p, { foo: '1', bar: 'x' })
    assert.equal(r.origin.count(p), 2)
  })

  it('matches field names case-insensitively', async () => {
    const p = path()
    varying(p, 'FOO')
    await send(p, { Foo: '1' })
    await send(p, { foo: '1' })
    assert.equal(r.origin.count(p), 1)
  })

  it('normalises whitespace around list commas and combined field lines (§4.1)', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: '1,2' })
    await send(p, { foo: ' 1, 2 ' })
    // Two field lines (fetch combines them into one; undici sends both).
    await get(r, p, {
      headers: [
        ['foo', '1'],
        ['foo', '2'],
      ],
    })
    assert.equal(r.origin.count(p), 1)
  })

  it('does not conflate values that differ in more than whitespace', async () => {
    const p = path()
    varying(p, 'Foo')
    await send(p, { foo: 'a b' })
    await send(p, { foo: 'ab' })
    assert.equal(r.origin.count(p), 2)
  })

  it('honours Vary on Accept-Language and Accept set by the caller', async () => {
    for (const header of ['accept-language', 'accept']) {
      const p = path()
      varying(p, header, header)
      assert.equal((await send(p, { [header]: 'en' })).text, `${header}=en`)
      assert.equal((await send(p, { [header]: 'de' })).text, `${header}=de`)
      assert.equal((await send(p, { [header]: 'en' })).text, `${header}=en`)
      assert.equal(r.origin.count(p), 2, header)
    }
  })

  for (const star of ['*', '*, *', 'Foo, *', '*, Foo', ', *']) {
    it(`never reuses a response with Vary: ${star}`, async () => {
      const p = path()
      varying(p, star)
      await send(p, { foo: '1' })
      await send(p, { foo: '1' })
      assert.equal(r.origin.count(p), 2)
    })
  }

  it('never reuses a response with Vary: * on a second field line', async () => {
    const p = path()
    varying(p, ['Foo', '*'])
    await send(p, { foo: '1' })
    await send(p, { foo: '1' })
    assert.equal(r.origin.count(p), 2)
  })

  it('§4.3.1 sends the selecting header of the stored variant when revalidating it', async () => {
    const p = path()
    r.answer(p, (req) =>
      req.headers['if-none-match']
        ? { status: 304, headers: { etag: '"v"' } }
        : { headers: { 'cache-control': 'max-age=1', age: '5', etag: '"v"', vary: 'Abc' } },
    )
    await send(p, { abc: '123' })
    await send(p, { abc: '123' })
    const seen = r.origin.requests.at(-1)?.headers
    assert.equal(seen?.['if-none-match'], '"v"')
    assert.equal(seen?.abc, '123')
  })
})
