/**
 * For running the benchmarks under another Node than the one `node_modules` was built for:
 * `--import`ed by the children when `BENCH_BETTER_SQLITE3` names a better-sqlite3 package directory
 * built for this Node, and resolves `better-sqlite3` there. Nothing in `node_modules` is rebuilt.
 */
import { register } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.env.BENCH_BETTER_SQLITE3
if (dir) {
  const target = JSON.stringify(pathToFileURL(join(dir, 'lib', 'index.js')).href)
  // A resolve hook, as a module of its own (hooks run on their own thread).
  const hooks = `export async function resolve(specifier, context, next) {
    return specifier === 'better-sqlite3' ? { url: ${target}, shortCircuit: true } : next(specifier, context)
  }`
  register(`data:text/javascript,${encodeURIComponent(hooks)}`)
}
