// The plan `cache.recreateKeys()` carries out: which entry moves to which key, which Vary markers are
// written, which rows go. Pure: the Cache reads the rows, this decides, the Cache writes.

import type { CacheEntry } from '../entry/entry.js'

/**
 * One claim on a key under the new key rules: a stored response that belongs there (`move`; `from`
 * equals `to` when its key did not change), or a Vary marker that must exist there (`marker`: one per
 * base key a variant now lives under, so lookups can find the variant).
 */
export type RekeyClaim =
  | { kind: 'move'; from: string; to: string; createdAt: number }
  | { kind: 'marker'; to: string; createdAt: number; marker: CacheEntry }

/** What to do, in order: moves, then marker writes, then deletions. */
export interface RekeyPlan {
  /** Responses to copy from one key to another (never `from === to`). */
  moves: { from: string; to: string }[]
  /** Vary markers to write (their `key` is where they go). */
  markers: CacheEntry[]
  /** Old keys nothing claims any more. */
  remove: string[]
}

/**
 * When two claims want one key (the new rules no longer tell two requests apart), the most recently
 * stored wins; on a tie, what is already there stays.
 *
 * @param claims every readable response's claim, and the markers its variants need
 * @param stored the keys of every readable row (responses and markers), which are removed unless claimed
 * @param markers the keys that hold a marker now (a marker claim there needs no write)
 */
export function planRekey(claims: readonly RekeyClaim[], stored: Iterable<string>, markers: ReadonlySet<string>): RekeyPlan {
  const winners = new Map<string, RekeyClaim>()
  const staying = (claim: RekeyClaim) => (claim.kind === 'move' ? claim.from === claim.to : markers.has(claim.to))
  for (const claim of claims) {
    const current = winners.get(claim.to)
    if (
      current === undefined ||
      claim.createdAt > current.createdAt ||
      (claim.createdAt === current.createdAt && staying(claim) && !staying(current))
    ) {
      winners.set(claim.to, claim)
    }
  }
  const plan: RekeyPlan = { moves: [], markers: [], remove: [] }
  for (const claim of winners.values()) {
    if (staying(claim)) continue
    if (claim.kind === 'move') plan.moves.push({ from: claim.from, to: claim.to })
    else plan.markers.push(claim.marker)
  }
  for (const key of new Set(stored)) if (!winners.has(key)) plan.remove.push(key)
  return plan
}
