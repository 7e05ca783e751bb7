import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

/**
 * The layout lib/README.md states ("The data flow"), held against the code's own imports: each stage
 * imports only from the stages before it, no two files import each other through any chain, and no file
 * grows past 500 lines. The stage order is read from lib/README.md itself, so the two cannot drift.
 */

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '../lib')
const MAX_LINES = 500

/** Stages in the order lib/README.md's data-flow table lists them (`folder/` in its first column). */
function stagesFromReadme(): string[] {
  const readme = readFileSync(join(LIB, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## The data flow'))
  const stages = [...section.matchAll(/^\| `([a-z-]+)\/` \|/gm)].map((match) => match[1] as string)
  assert.ok(stages.length >= 8, `lib/README.md's data-flow table lists ${stages.length} stages`)
  return stages
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name)
    if (item.isDirectory()) return sourceFiles(path)
    return item.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative modules a file imports (static, type-only and dynamic), as paths of `.ts` files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)]
  return specifiers.map((match) => resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')))
}

const STAGES = stagesFromReadme()
const FILES = sourceFiles(LIB)

/** A file's rank: `errors.ts` comes before every stage, `index.ts` after them all. */
function rank(file: string): number {
  const path = relative(LIB, file)
  if (path === 'errors.ts') return -1
  if (path === 'index.ts') return STAGES.length
  const stage = STAGES.indexOf(path.split('/')[0] as string)
  assert.ok(stage >= 0, `${path} is in no stage that lib/README.md lists`)
  return stage
}

test('every import in lib/ runs from a later stage to an earlier one (or within its stage)', () => {
  const against: string[] = []
  for (const file of FILES) {
    for (const target of importsOf(file)) {
      if (rank(target) > rank(file)) against.push(`${relative(LIB, file)} -> ${relative(LIB, target)}`)
    }
  }
  assert.deepEqual(against, [])
})

test('no file in lib/ imports itself through a chain of imports', () => {
  const graph = new Map(FILES.map((file) => [file, importsOf(file)]))
  const done = new Set<string>()
  const circles: string[] = []
  const visit = (file: string, path: string[]): void => {
    const seen = path.indexOf(file)
    if (seen >= 0) {
      circles.push([...path.slice(seen), file].map((f) => relative(LIB, f)).join(' -> '))
      return
    }
    if (done.has(file)) return
    for (const target of graph.get(file) ?? []) visit(target, [...path, file])
    done.add(file)
  }
  for (const file of FILES) visit(file, [])
  assert.deepEqual(circles, [])
})

test(`no file in lib/ is over ${MAX_LINES} lines`, () => {
  const long = FILES.map((file) => [relative(LIB, file), readFileSync(file, 'utf8').split('\n').length - 1] as const).filter(
    ([, lines]) => lines > MAX_LINES,
  )
  assert.deepEqual(long, [])
})

test('the import reader sees the imports it checks (a positive control)', () => {
  const exchange = importsOf(join(LIB, 'engine/exchange.ts')).map((file) => relative(LIB, file))
  assert.ok(exchange.includes('policy/actions.ts'), `engine/exchange.ts imports: ${exchange.join(', ')}`)
  assert.ok(STAGES.indexOf('http') < STAGES.indexOf('engine'))
})
