/**
 * A `.cpuprofile` split into the phases of a request (issue 24): each sample goes to the innermost
 * fetch-http-cache frame on its stack, and that frame's file and function name its phase; what runs
 * beneath it (a `Headers` copy under `render`, a statement under `upsert`) counts for that phase.
 * Samples under the origin request (the fronts' `send`, the dispatcher's pass-through) are the
 * forward, which plain fetch pays too; samples with no frame of ours are undici's and Node's own
 * work outside our calls (reading the socket, parsing), the collector, and idle time.
 */
import type { Profile } from './cpu-profile.js'

/** A phase from the innermost frame of ours: its file (under `lib/`) and function name. */
function phaseOf(file: string, fn: string, leafIsOurs: boolean): string {
  if (file.startsWith('fronts/dispatcher/') || file.startsWith('install/') || file === 'fronts/origin-mark.ts') {
    return leafIsOurs ? 'dispatcher pass-through (ours)' : 'forward (undici, socket)'
  }
  if (file === 'fronts/fetch/front.ts') {
    if (fn === 'render') return 'Response construction, header copy, Cache-Status'
    // What the front calls outside the cache is the origin fetch (its arrow functions included).
    return leafIsOurs ? 'fetch front (other)' : 'forward (undici, socket)'
  }
  if (file === 'fronts/fetch/response.ts') return 'Response construction, header copy, Cache-Status'
  if (file === 'http/cache-status.ts') return 'Response construction, header copy, Cache-Status'
  if (file === 'request/from-fetch.ts') return 'request parsing'
  if (file === 'request/key.ts' || fn === 'keyFor' || fn === 'storageKey') return 'key'
  if (file === 'policy/actions.ts' || file === 'policy/freshness.ts' || file === 'engine/coalescing.ts') return 'plan'
  if (file === 'policy/write.ts') return 'store decision'
  if (file === 'policy/stored-headers.ts' || file === 'entry/sealed-cookies.ts') return 'stored header fields'
  if (file === 'engine/body.ts' || file === 'engine/recording.ts') return 'recording (tee)'
  if (file === 'entry/codec.ts') return 'encode'
  if (file === 'stores/sqlite-apply.ts' || file === 'stores/sqlite-schema.ts') return 'commit (SQLite statements)'
  if (file === 'stores/pending-writes.ts') return 'write-behind queue'
  if (file === 'stores/sqlite.ts') {
    if (/get|Committed|versionUnchanged|touch/i.test(fn)) return 'store lookup'
    if (/commit|flush|apply|run|schedule/i.test(fn)) return 'commit (SQLite statements)'
    return 'write-behind queue'
  }
  if (file.startsWith('stores/') || file.startsWith('node_modules/lru-cache')) {
    return fn === 'get' || fn === 'peek' ? 'store lookup' : 'store write (memory)'
  }
  if (file === 'engine/engine.ts' && /save|set|update|refresh/i.test(fn)) return 'entry building (save)'
  if (file.startsWith('observe/')) return 'events and counters'
  if (file === 'engine/exchange.ts' || file === 'engine/in-flight.ts') return 'exchange (flow)'
  return `other: ${file}`
}

/** The file under `lib/` a frame runs, as `fronts/fetch/front.ts`: the source, or its build in `dist/` (which the bench runs). */
function libFile(url: string): string | undefined {
  if (!url.includes('node_modules')) {
    for (const root of ['/lib/', '/dist/']) {
      const at = url.lastIndexOf(root)
      if (at !== -1) return url.slice(at + root.length).replace(/\.js$/, '.ts')
    }
  }
  if (url.includes('node_modules/lru-cache')) return 'node_modules/lru-cache'
  return undefined
}

/** Time per phase (µs per request when `requests` is given, else ms), largest first. */
export function phases(profile: Profile, requests: number | undefined): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const parents = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id)
  const byPhase = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    total += delta
    const leaf = nodes.get(id)
    let phase = '(outside our calls: undici, sockets)'
    const leafName = leaf?.callFrame.functionName ?? ''
    if (leafName === '(idle)' || leafName === '(garbage collector)' || leafName === '(program)') phase = leafName
    else
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const frame = nodes.get(at)?.callFrame
        const file = frame && libFile(frame.url)
        if (!frame || !file) continue
        phase = phaseOf(file, frame.functionName.replace(/^#/, ''), at === id)
        break
      }
    byPhase.set(phase, (byPhase.get(phase) ?? 0) + delta)
  })
  const unit = requests ? 'µs/req' : 'ms'
  const lines = [`| phase | ${unit} | share |`, '| --- | --: | --: |']
  for (const [phase, time] of [...byPhase].sort((a, b) => b[1] - a[1])) {
    const value = requests ? time / requests : time / 1000
    lines.push(`| ${phase} | ${value.toFixed(1)} | ${((100 * time) / total).toFixed(1)}% |`)
  }
  return lines.join('\n')
}
