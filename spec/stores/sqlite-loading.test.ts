import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { it } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/children.js'

const WORKER = join(ROOT, 'spec', 'stores', 'workers', 'loaded-modules.ts')

/** Whether a fresh process using `backend` loaded better-sqlite3. */
async function loadsSqlite(backend: string): Promise<boolean> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', WORKER, backend], {
    cwd: ROOT,
    timeout: 60_000,
  })
  return (JSON.parse(stdout) as { loaded: boolean }).loaded
}

it('importing the package and caching in memory does not load better-sqlite3', async () => {
  assert.equal(await loadsSqlite('memory'), false)
})

it('a SQLite store loads better-sqlite3 when it opens', async () => {
  assert.equal(await loadsSqlite('sqlite'), true)
})
