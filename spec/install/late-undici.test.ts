import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { type ChildReport, limited, runCheckChild } from '../helpers/check-child.js'
import { undici8Supported } from './compat-checks.js'
import { LATE_CHECKS, type LateCheck } from './late-undici-checks.js'

/**
 * undici loaded after `installCache()` (issue 20), in a process that never loaded Node's own undici
 * before: an ES module app and a CommonJS app, each with npm undici 7 and 8, one child each.
 */
const CHILD_TIMEOUT = 60_000
const KINDS = [
  { module: 'esm', file: 'late-undici-child.ts' },
  { module: 'cjs', file: 'late-undici-child.cts' },
] as const
const COMBINATIONS = KINDS.flatMap((kind) => (['7', '8'] as const).map((undici) => ({ ...kind, undici })))
const skip8 = undici8Supported() ? undefined : `npm undici 8 requires Node >= 22.19.0; this is ${process.version}`
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
// Node 22.19 cannot require() an ES module graph loaded through tsx's hooks (the link fails with
// "request for './…' is not in cache"; 22.23 can). The built package is required from CommonJS on
// every Node CI runs, 22.19 included, by the pack test (.ci/pack-test.mjs).
const skipCjs =
  major === 22 && minor < 20
    ? `require() of the package's TypeScript source through tsx fails to link on Node ${process.version}; .ci/pack-test.mjs requires the built package there`
    : undefined
const skipOf = (c: (typeof COMBINATIONS)[number]) =>
  (c.undici === '8' ? skip8 : undefined) ?? (c.module === 'cjs' ? skipCjs : undefined)
const runnable = COMBINATIONS.filter((c) => !skipOf(c))
let reports: Promise<ChildReport>[] = []

before(() => {
  reports = limited(
    runnable.map((c) => () => runCheckChild(join(import.meta.dirname, c.file), { LATE_UNDICI: c.undici }, CHILD_TIMEOUT)),
    2,
  )
})

for (const combination of COMBINATIONS) {
  const skip = skipOf(combination)
  describe(`${combination.module} app, installCache() then npm undici ${combination.undici}`, skip ? { skip } : {}, () => {
    let report: ChildReport
    before(
      async () => {
        report = await (reports[runnable.indexOf(combination)] as Promise<ChildReport>)
      },
      { timeout: CHILD_TIMEOUT * 3 },
    )
    for (const [id, title] of Object.entries(LATE_CHECKS) as [LateCheck, string][]) {
      it(title, () => {
        const check = report.checks.get(id)
        if (!check) assert.fail(`the child did not report "${id}": ${report.problem}`)
        assert.ok(check.ok, check.detail)
      })
    }
  })
}
