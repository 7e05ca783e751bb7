import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isWeak, noneMatchMatches, strongMatch, weakMatch } from '../../lib/http/etag.js'

describe('entity-tags (RFC 9110 §8.8.3)', () => {
  test('W/ marks a weak tag, case-sensitively', () => {
    assert.equal(isWeak('W/"a"'), true)
    assert.equal(isWeak(' W/"a" '), true)
    assert.equal(isWeak('w/"a"'), false)
    assert.equal(isWeak('"a"'), false)
  })

  const rows: [string, string, boolean, boolean][] = [
    // RFC 9110 §8.8.3.2's table: ETag 1, ETag 2, strong comparison, weak comparison.
    ['W/"1"', 'W/"1"', false, true],
    ['W/"1"', 'W/"2"', false, false],
    ['W/"1"', '"1"', false, true],
    ['"1"', '"1"', true, true],
    ['w/"1"', '"1"', false, false],
  ]
  for (const [a, b, strong, weak] of rows) {
    test(`${a} and ${b}: strong ${strong}, weak ${weak}`, () => {
      assert.equal(strongMatch(a, b), strong)
      assert.equal(weakMatch(a, b), weak)
    })
  }

  test('If-None-Match: *, or one list member by the weak comparison', () => {
    assert.equal(noneMatchMatches('*', undefined), true)
    assert.equal(noneMatchMatches('"x", W/"a"', '"a"'), true)
    assert.equal(noneMatchMatches('"x"', '"a"'), false)
    assert.equal(noneMatchMatches('"a"', undefined), false)
  })
})
