import assert from 'node:assert/strict'
import { test } from 'node:test'
import { acceptsCoding } from '../../lib/http/content-coding.js'

test('Accept-Encoding accepts a coding listed with a non-zero weight, or through *; no field accepts any (RFC 9110 §12.5.3)', () => {
  const cases: [string | null, string, boolean][] = [
    [null, 'gzip', true],
    ['gzip, deflate, br', 'gzip', true],
    ['GZIP', 'gzip', true],
    ['x-gzip', 'gzip', true],
    ['identity', 'gzip', false],
    ['br', 'gzip', false],
    ['gzip;q=0', 'gzip', false],
    ['gzip;q=0.5', 'gzip', true],
    ['*', 'br', true],
    ['*;q=0, gzip', 'br', false],
    ['gzip;q=0, *', 'gzip', false],
    ['gzip, br', 'gzip, br', true],
    ['gzip', 'gzip, br', false],
    ['', 'identity', true],
  ]
  for (const [field, coding, accepted] of cases) assert.equal(acceptsCoding(field, coding), accepted, `${field} / ${coding}`)
})
