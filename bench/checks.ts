/** What a job verified about its own run (from the origin's counters), shown beside its numbers. */
export interface Check {
  what: string
  expected: number
  actual: number
  ok: boolean
}

export function check(what: string, expected: number, actual: number): Check {
  return { what, expected, actual, ok: expected === actual }
}
