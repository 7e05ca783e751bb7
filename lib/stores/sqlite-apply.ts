import { encodeMeta } from '../entry/codec.js'
import type { Segment } from './pending-writes.js'
import { type KeyColumn, keyColumn, type Statements } from './sqlite-schema.js'

/**
 * The pending writes, segment by segment: key writes, then the segment's sweep. Pruning (past
 * `maxSize`) runs once at the end and spares the last entry written, which fits on its own. Returns
 * whether rows went that the writes do not delete by key (pruned, or an entry too big to keep
 * deleted in place of its write): then no decoded copy can stand for its row.
 */
export function applySegments(segments: readonly Segment[], sql: Statements, maxSize: number | undefined): boolean {
  let written: KeyColumn | undefined
  let rowsGone = false
  for (const segment of segments) {
    for (const [key, write] of segment.writes) {
      const column = keyColumn(key)
      switch (write.kind) {
        case 'set': {
          const { entry } = write
          const meta = encodeMeta(entry, { key, url: entry.url, createdAt: entry.createdAt })
          const size = entry.body.byteLength + Buffer.byteLength(meta)
          if (maxSize !== undefined && size > maxSize) {
            // Too big to keep: drop what was there too, so the key no longer serves the older response.
            sql.deleteOne.run(column)
            rowsGone = true
          } else {
            sql.upsert(column, entry.url, meta, entry.body, size, entry.createdAt, entry.expires, write.accessedAt)
            written = column
          }
          break
        }
        case 'delete':
          sql.deleteOne.run(column)
          break
        case 'refresh': {
          // Only the response revalidated: if another took its place meanwhile, its metadata must not land on that body.
          // The url column is the one the row was written with: only the key is known to match.
          const meta = encodeMeta(write.meta, { key, url: '', createdAt: write.meta.createdAt })
          sql.refresh.run(
            meta,
            Buffer.byteLength(meta),
            write.meta.createdAt,
            write.meta.expires,
            write.accessedAt,
            column,
            write.storedAt,
          )
          break
        }
        case 'touch':
          sql.touch.run(write.accessedAt, column)
          break
        default:
          write satisfies never
      }
    }
    if (segment.sweep) sql.clear()
  }
  if (maxSize !== undefined && written !== undefined && (sql.totalSize.get() ?? 0) > maxSize) {
    sql.prune(written, maxSize)
    rowsGone = true
  }
  return rowsGone
}
