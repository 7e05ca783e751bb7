import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseHttpDate } from '../../lib/http/dates.js'

test('an HTTP-date parses to the same time every time, past the bound of dates kept parsed', () => {
  const first = 'Mon, 07 Dec 2026 20:00:00 GMT'
  assert.equal(parseHttpDate(first), Date.UTC(2026, 11, 7, 20, 0, 0))
  // More distinct dates than are kept: the first is parsed again, to the same time.
  for (let s = 0; s < 600; s++) {
    const date = new Date(Date.UTC(2026, 11, 7, 21, 0, 0) + s * 1000)
    assert.equal(parseHttpDate(date.toUTCString()), date.getTime())
  }
  assert.equal(parseHttpDate(first), Date.UTC(2026, 11, 7, 20, 0, 0))
  assert.equal(parseHttpDate(` ${first} `), Date.UTC(2026, 11, 7, 20, 0, 0))
})

test('a malformed date stays malformed when a well-formed one was parsed before it', () => {
  assert.equal(parseHttpDate('Mon, 07 Dec 2026 20:00:00 GMT') !== undefined, true)
  assert.equal(parseHttpDate('Mon, 31 Feb 2026 20:00:00 GMT'), undefined)
  assert.equal(parseHttpDate('Mon, 07 Dec 2026 20:00:00 UTC'), undefined)
  assert.equal(parseHttpDate('0'), undefined)
})
