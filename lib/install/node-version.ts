import { UnsupportedNodeError } from '../errors.js'

/**
 * The oldest Node.js the package runs on: `engines.node` in package.json (a spec test keeps the two
 * equal). Checked when the package is imported (`index.ts` imports this module first), before
 * better-sqlite3 loads: on an older Node its native addon crashes the process without a word.
 */
export const NODE_FLOOR = '22.19.0'

/** Whether `version` (`process.versions.node`) is at least `floor`. */
export function supportsNode(version: string, floor: string = NODE_FLOOR): boolean {
  const have = version.split('.').map(Number)
  const need = floor.split('.').map(Number)
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0
    const b = need[i] ?? 0
    if (a !== b) return a > b
  }
  return true
}

if (!supportsNode(process.versions.node)) throw new UnsupportedNodeError(process.versions.node, NODE_FLOOR)
