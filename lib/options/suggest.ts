/**
 * "Did you mean …?" for a misspelt option name. Names are compared without case, `_` or `-`, so
 * `expire_after`, `ExpireAfter` and `expire-after` all find `expireAfter`; beyond that, a few typing
 * slips (a letter missing, extra, wrong, or two swapped) are forgiven, more for longer names.
 */
export function closestName(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = fold(input)
  if (wanted === '') return undefined
  const allowed = Math.max(1, Math.floor(wanted.length / 3))
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const candidate of candidates) {
    const distance = editDistance(wanted, fold(candidate), bestDistance)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** `' (did you mean "expireAfter"?)'`, or `''` when nothing is close: for the end of an error message. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = '"'): string {
  const name = closestName(input, candidates)
  return name === undefined ? '' : ` (did you mean ${quote}${name}${quote}?)`
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '')
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps, each 1.
 * Stops early once every path costs at least `limit` (the names are short; this keeps it trivially cheap).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) >= limit) return limit
  let previous2: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (previous2[j - 2] ?? 0) + 1)
      }
      current.push(value)
      rowMin = Math.min(rowMin, value)
    }
    if (rowMin >= limit) return limit
    previous2 = previous
    previous = current
  }
  return Math.min(previous[b.length] ?? 0, limit)
}
