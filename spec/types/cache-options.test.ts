import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/children.js'

/**
 * `cacheOptions` (and `init.cache`) are typed where the cache reads them: cache-options.ts, compiled by
 * tsc under a strict configuration (spec/types/tsconfig.json, no skipLibCheck), uses them on the
 * global `fetch`, on a `createCachedFetch()` function and on `undici.request()`, and marks wrong
 * option names and values `@ts-expect-error` (tsc fails when one of them stops being an error).
 */

const run = promisify(execFile)

test('cacheOptions type-checks on global fetch, a cached fetch and undici.request, and a wrong option does not', async () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    await run(process.execPath, [tsc, '-p', join(ROOT, 'spec', 'types', 'tsconfig.json')], { cwd: ROOT, timeout: 120_000 })
  } catch (error) {
    assert.fail(`tsc: ${String((error as { stdout?: string }).stdout || error)}`)
  }
})
