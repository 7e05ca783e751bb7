/**
 * undici loaded after `installCache()`, as an ES module app (issue 20): captures `fetch` without
 * calling it, installs, and only then imports npm undici (LATE_UNDICI=7|8). Only modules that load
 * none of Node's undici come before (spec/install/late-undici-checks.ts has the checks).
 */
const SLOT1 = Symbol.for('undici.globalDispatcher.1')
const SLOT2 = Symbol.for('undici.globalDispatcher.2')
const slotsAtStart = { one: Object.hasOwn(globalThis, SLOT1), two: Object.hasOwn(globalThis, SLOT2) }
const captured = globalThis.fetch
const pkg = await import('../../lib/index.js')
pkg.installCache({ backend: 'memory' })
const undici = await import(process.env.LATE_UNDICI === '8' ? 'undici8' : 'undici')
const { runLateChecks } = await import('./late-undici-checks.js')
try {
  await runLateChecks(pkg, undici as unknown as Parameters<typeof runLateChecks>[1], captured, slotsAtStart)
} catch (error) {
  process.stdout.write(`fatal ${JSON.stringify(String(error))}\n`)
}
process.exit(0)
