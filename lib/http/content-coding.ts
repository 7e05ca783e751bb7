import { kMaxLength } from 'node:buffer'
import zlib from 'node:zlib'

type Decoder = (bytes: Uint8Array, options: { maxOutputLength?: number }) => Uint8Array

/** The content-codings this cache removes (RFC 9110 §8.4.1); `identity` and an empty member are no-ops. */
const DECODERS = new Map<string, Decoder>([
  ['gzip', zlib.gunzipSync],
  ['x-gzip', zlib.gunzipSync],
  ['deflate', zlib.inflateSync],
  ['br', zlib.brotliDecompressSync],
  // Read from the namespace: a named import would fail to link on a Node without it, before the
  // package can say which Node it needs (every supported Node has it).
  ['zstd', zlib.zstdDecompressSync],
  ['identity', (bytes) => bytes],
  ['', (bytes) => bytes],
])

function steps(coding: string): string[] {
  return coding
    .toLowerCase()
    .split(',')
    .map((step) => step.trim())
}

/** Whether {@link decode} knows every content-coding in `coding`. */
export function canDecode(coding: string | undefined): boolean {
  return !coding || steps(coding).every((step) => DECODERS.has(step))
}

/**
 * Removes the content-codings in `coding` (applied in order, so undone in reverse). With `limit`, each
 * step stops once its output passes `limit` bytes and throws a {@link TooLargeError}: a small
 * compressed body can decode into gigabytes (a "zip bomb"), and is never decoded whole.
 */
export function decode(body: Uint8Array, coding: string | undefined, limit?: number): Uint8Array {
  if (!coding) return body
  // zlib's own bound: it stops inflating at maxOutputLength and throws ERR_BUFFER_TOO_LARGE.
  const options = limit === undefined ? {} : { maxOutputLength: Math.max(1, Math.min(limit + 1, kMaxLength)) }
  let bytes = body
  for (const step of steps(coding).reverse()) {
    const decoder = DECODERS.get(step)
    if (!decoder) throw new Error(`unsupported content-encoding ${step}`)
    try {
      bytes = decoder(bytes, options)
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeError(limit as number)
      throw error
    }
    if (limit !== undefined && bytes.byteLength > limit) throw new TooLargeError(limit)
  }
  return bytes
}

/** A body that decodes to more than the limit it was decoded with. */
export class TooLargeError extends RangeError {
  constructor(limit: number) {
    super(`decoded body larger than ${limit} bytes`)
    this.name = 'TooLargeError'
  }
}

/**
 * Whether a request's `Accept-Encoding` accepts every content-coding in `coding` (RFC 9110 §12.5.3):
 * listed with a non-zero weight, or matched by `*`. No field accepts any coding (what fetch then sends
 * lists the ones it decodes).
 */
export function acceptsCoding(acceptEncoding: string | null, coding: string): boolean {
  if (acceptEncoding === null) return true
  const weights = new Map<string, number>()
  for (const item of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = item.split(';').map((part) => part.trim())
    const q = params.find((param) => param.startsWith('q='))
    weights.set(name === 'x-gzip' ? 'gzip' : name, q === undefined ? 1 : Number(q.slice(2)) || 0)
  }
  return coding
    .toLowerCase()
    .split(',')
    .map((step) => step.trim())
    .every((step) => {
      if (step === '' || step === 'identity') return true
      const weight = weights.get(step === 'x-gzip' ? 'gzip' : step) ?? weights.get('*') ?? 0
      return weight > 0
    })
}
