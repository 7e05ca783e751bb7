/**
 * The package as its users run it: the compiled `dist/`, not `lib/` through tsx. tsx compiles with
 * esbuild's `keepNames`, which adds a `__name()` call for every function and closure created: a few µs
 * per miss in the profile that no user pays. `npm run bench` builds first; a `dist/` older than a file
 * in `lib/` is refused, so a timing never measures code other than the source it is read beside.
 */
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type * as Package from '../lib/index.js'

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const LIB = fileURLToPath(new URL('../lib/', import.meta.url))

function builtAt(): number {
  try {
    return statSync(DIST).mtimeMs
  } catch {
    throw new Error('bench: dist/ is missing: run `npm run build` first (`npm run bench` does)')
  }
}

const built = builtAt()
for (const file of readdirSync(LIB, { recursive: true, encoding: 'utf8' })) {
  if (file.endsWith('.ts') && statSync(LIB + file).mtimeMs > built)
    throw new Error(`bench: lib/${file} is newer than dist/: run \`npm run build\` first (\`npm run bench\` does)`)
}

export const pkg: typeof Package = await import(DIST)
