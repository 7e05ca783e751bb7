/**
 * undici loaded after `installCache()`, as a CommonJS app (issue 20): `installCache()` at start-up,
 * then `require('undici')`. See late-undici-child.ts for the ES module twin.
 */
const SLOT1 = Symbol.for('undici.globalDispatcher.1')
const SLOT2 = Symbol.for('undici.globalDispatcher.2')
const slotsAtStart = { one: Object.hasOwn(globalThis, SLOT1), two: Object.hasOwn(globalThis, SLOT2) }
const captured = globalThis.fetch
const pkg = require('../../lib/index.ts')
pkg.installCache({ backend: 'memory' })
const undici = require(process.env.LATE_UNDICI === '8' ? 'undici8' : 'undici')
const { runLateChecks } = require('./late-undici-checks.ts')
runLateChecks(pkg, undici, captured, slotsAtStart)
  .catch((error: unknown) => process.stdout.write(`fatal ${JSON.stringify(String(error))}\n`))
  .finally(() => process.exit(0))
