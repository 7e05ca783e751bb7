import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/children.js'

test('without a global fetch, installCache() caches undici and leaves fetch absent; createCachedFetch() throws a typed error', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'no-fetch-child.ts')],
    {
      cwd: ROOT,
      timeout: 60_000,
    },
  )
  const seen = JSON.parse(stdout.trim().split('\n').at(-1) ?? '')
  assert.equal(seen.installError, undefined)
  assert.match(String(seen.statuses[0]), /fwd=miss/)
  assert.match(String(seen.statuses[1]), /; hit/)
  assert.equal(seen.fetchAfterInstall, 'undefined')
  assert.deepEqual(seen.sessionError, { name: 'FetchCacheError', code: 'FETCH_HTTP_CACHE_NO_FETCH' })
  assert.equal(seen.installedAfterUninstall, false)
  assert.equal(seen.fetchAfterUninstall, 'undefined')
  assert.equal(seen.dispatcherRestored, true)
})
