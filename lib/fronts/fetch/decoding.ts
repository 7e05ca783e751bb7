import zlib from 'node:zlib'

/**
 * The content-codings Node's fetch removes. undici's fetch decodes a response only when it knows every
 * coding listed, and hands any other list out as it came: `zstd` is known from undici 7.11 (Node 24),
 * not to Node 22's undici 6; `identity` in a list, or an empty member, is never known.
 */
const DECODED = new Set(['gzip', 'x-gzip', 'deflate', 'br', ...(fetchHasZstd() ? ['zstd'] : [])])

function fetchHasZstd(): boolean {
  const [major = 0, minor = 0] = (process.versions.undici ?? '').split('.').map(Number)
  return typeof zlib.zstdDecompressSync === 'function' && (major > 7 || (major === 7 && minor >= 11))
}

/** Whether fetch hands a body with this `Content-Encoding` out decoded (no field: nothing to decode). */
export function fetchDecodes(coding: string | null | undefined): boolean {
  if (!coding) return true
  for (const step of coding.toLowerCase().split(',')) if (!DECODED.has(step.trim())) return false
  return true
}
