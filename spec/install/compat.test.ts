import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { type ChildReport, limited, runCheckChild } from '../helpers/check-child.js'
import { COMBINATIONS, checksFor, describeCombination, undici8Supported } from './compat-checks.js'

/**
 * installCache() in any process (issue 11): every load order, the user's npm undici 7 and 8, and a
 * user global dispatcher set never, before or after install. Which undici creates the global
 * dispatcher is fixed per process, so each combination runs in a child (compat-child.ts) that
 * reports one line per check; each `it` below asserts one of them. To run one combination by hand:
 * `COMPAT_ORDER=bundled-first COMPAT_UNDICI=8 COMPAT_GLOBAL=before node --import tsx spec/install/compat-child.ts`
 */
const CHILD = join(import.meta.dirname, 'compat-child.ts')
const CHILD_TIMEOUT = 60_000
const AT_ONCE = 3

const skipUndici8 = undici8Supported()
  ? undefined
  : `npm undici 8 requires Node >= 22.19.0 (its engines field); this is ${process.version}`
const runnable = COMBINATIONS.filter((c) => !(c.undici === '8' && skipUndici8))
let reports: Promise<ChildReport>[] = []

before(() => {
  reports = limited(
    runnable.map(
      (c) => () =>
        runCheckChild(CHILD, { COMPAT_ORDER: c.order, COMPAT_UNDICI: c.undici, COMPAT_GLOBAL: c.global }, CHILD_TIMEOUT),
    ),
    AT_ONCE,
  )
})

for (const combination of COMBINATIONS) {
  const skip = combination.undici === '8' ? skipUndici8 : undefined
  describe(describeCombination(combination), skip ? { skip } : {}, () => {
    let report: ChildReport
    before(
      async () => {
        report = await (reports[runnable.indexOf(combination)] as Promise<ChildReport>)
      },
      { timeout: CHILD_TIMEOUT * (runnable.length + 1) },
    )
    for (const { id, title } of checksFor(combination)) {
      it(title, (t) => {
        const check = report.checks.get(id)
        if (!check) assert.fail(`the child did not report "${id}": ${report.problem}`)
        if (check.skip) return t.skip(check.skip)
        assert.ok(check.ok, check.detail)
      })
    }
  })
}
