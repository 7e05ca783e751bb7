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
const runnable = COMBINATIONS.filter((c) => !(c.undici === '8' && skip8))
let reports: Promise<ChildReport>[] = []

before(() => {
  reports = limited(
    runnable.map((c) => () => runCheckChild(join(import.meta.dirname, c.file), { LATE_UNDICI: c.undici }, CHILD_TIMEOUT)),
    2,
  )
})

for (const combination of COMBINATIONS) {
  const skip = combination.undici === '8' ? skip8 : undefined
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
