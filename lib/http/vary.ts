/** `Vary` (RFC 9110 §12.5.5): the request fields a stored response was selected by. */

/** The lower-case names in a response's `Vary`, or `undefined` without one. */
export function varyNames(headers: readonly [string, string][]): string[] | undefined {
  const names: string[] = []
  for (const [name, value] of headers) {
    if (name !== 'vary') continue
    for (const field of value.split(',')) {
      const trimmed = field.trim().toLowerCase()
      if (trimmed && !names.includes(trimmed)) names.push(trimmed)
    }
  }
  return names.length ? names.sort() : undefined
}
