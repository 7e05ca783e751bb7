/**
 * Where a `.cpuprofile` spent its time: self time by function, and self time by file, with
 * fetch-http-cache's own files (`lib/`) marked. Usable on its own: `npx tsx bench/profile-summary.ts <file>`.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Profile, ProfileNode } from './cpu-profile.js'
import { phases } from './profile-phases.js'

const TOP = 30

/**
 * A text table of the top functions and files by self time, and of fetch-http-cache's functions by
 * inclusive time (their own time plus everything they called).
 */
export async function summarize(path: string): Promise<string> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as Profile
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const names = new Map(profile.nodes.map((node) => [node.id, describe(node.callFrame)]))

  const self = new Map<number, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + delta)
    total += delta
  })
  const byFunction = new Map<string, number>()
  const byFile = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const inclusiveAll = new Map<string, number>()
  for (const [id, time] of self) {
    const node = nodes.get(id)
    if (!node) continue
    add(byFunction, names.get(id) ?? '?', time)
    add(byFile, shortFile(node.callFrame.url), time)
    // Each lib function on the stack once, however deep the recursion.
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const name = names.get(at) ?? '?'
      if (seen.has(name)) continue
      seen.add(name)
      add(inclusiveAll, name, time)
      if (isOurs(name)) add(inclusive, name, time)
    }
  }
  const lines = [`total ${(total / 1e6).toFixed(2)} s sampled`, '', 'self time by function:']
  for (const [name, time] of top(byFunction)) lines.push(row(time, total, name))
  lines.push('', 'self time by file:')
  for (const [file, time] of top(byFile)) lines.push(row(time, total, file))
  lines.push('', "inclusive time of fetch-http-cache's functions (lib/):")
  for (const [name, time] of top(inclusive)) lines.push(row(time, total, name))
  lines.push('', 'inclusive time of every function (what each costs with what it calls):')
  for (const [name, time] of top(inclusiveAll, 45)) lines.push(row(time, total, name))
  lines.push('', 'phases (profile-phases.ts):', phases(profile, profile.requests))
  return lines.join('\n')
}

function add(map: Map<string, number>, key: string, time: number): void {
  map.set(key, (map.get(key) ?? 0) + time)
}

function describe(frame: ProfileNode['callFrame']): string {
  const at = frame.url ? `:${frame.lineNumber + 1}:${frame.columnNumber + 1}` : ''
  return `${frame.functionName || '(anonymous)'} ${shortFile(frame.url)}${at}`
}

function isOurs(name: string): boolean {
  return name.includes(' lib/')
}

function top(map: Map<string, number>, count = TOP): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, count)
}

function row(time: number, total: number, name: string): string {
  const share = ((100 * time) / total).toFixed(1).padStart(5)
  const mark = isOurs(name) || name.startsWith('lib/') ? '*' : ' '
  return `${share}% ${(time / 1000).toFixed(0).padStart(7)} ms ${mark} ${name}`
}

/** A file URL as a path relative to the repository, node_modules or Node's internals. */
function shortFile(url: string): string {
  if (!url) return '(native)'
  const path = url.startsWith('file:') ? fileURLToPath(url) : url
  const modules = path.lastIndexOf('node_modules/')
  if (modules !== -1) return path.slice(modules)
  const root = fileURLToPath(new URL('..', import.meta.url))
  return path.startsWith(root) ? path.slice(root.length) : path
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const path of process.argv.slice(2)) process.stdout.write(`${await summarize(path)}\n`)
}
