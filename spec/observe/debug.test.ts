import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { it } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/children.js'

it('NODE_DEBUG=fetch-http-cache prints one short line per decision, with the URL redacted and no credential', async () => {
  const { stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'spec/observe/debug-child.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_DEBUG: 'fetch-http-cache' },
    timeout: 30_000,
  })
  const lines = stderr
    .split('\n')
    .filter((line) => line.startsWith('FETCH-HTTP-CACHE '))
    .map((line) => line.replace(/^FETCH-HTTP-CACHE \d+: /, '').replace(/127\.0\.0\.1:\d+/, 'origin'))
  assert.deepEqual(lines, [
    'GET http://origin/debug?token=REDACTED&api_key=REDACTED: miss (not stored)',
    'GET http://origin/debug?token=REDACTED&api_key=REDACTED: origin 200, storing',
    'GET http://origin/debug?token=REDACTED&api_key=REDACTED: stored (5 bytes)',
    'GET http://origin/debug?token=REDACTED&api_key=REDACTED: hit (fresh)',
    'POST http://origin/debug?token=REDACTED&api_key=REDACTED: bypass (method POST)',
    'invalidate http://origin/debug?token=REDACTED&api_key=REDACTED after POST',
  ])
  assert.doesNotMatch(stderr, /SECRET/)
})
