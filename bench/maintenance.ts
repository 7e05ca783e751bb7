/**
 * Maintenance reads no bodies (issue 13): `cache.count()` + `cache.urls()` on a SQLite file of 200
 * entries, once with 1 MiB bodies (200 MiB) and once with 100 B bodies. Equal times mean the bodies
 * were not read; the old code took 162× longer with the large bodies.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ENTRY_VERSION } from '../lib/entry/entry.js'
import { createCachedFetch, SqliteStore } from '../lib/index.js'
import { type Check, check } from './checks.js'

const ENTRIES = 200
const SIZES = [1024 * 1024, 100]
const RUNS = 7

export interface MaintenanceRow {
  bodyBytes: number
  entries: number
  /** Median ms of `count()` + `urls()` over the runs. */
  ms: number
  checks: Check[]
}

export async function measureMaintenance(dir: string): Promise<MaintenanceRow[]> {
  const rows: MaintenanceRow[] = []
  for (const bodyBytes of SIZES) {
    const path = join(dir, `maintenance-${bodyBytes}.sqlite`)
    await fill(path, bodyBytes)
    const cachedFetch = createCachedFetch({ cacheName: path })
    try {
      const times: number[] = []
      let counted = 0
      let urls = 0
      for (let run = 0; run < RUNS; run++) {
        const started = performance.now()
        counted = await cachedFetch.cache.count()
        urls = (await cachedFetch.cache.urls()).length
        times.push(performance.now() - started)
      }
      times.sort((a, b) => a - b)
      rows.push({
        bodyBytes,
        entries: ENTRIES,
        ms: times[Math.floor(times.length / 2)] as number,
        checks: [check('responses counted', ENTRIES, counted), check('URLs listed', ENTRIES, urls)],
      })
    } finally {
      await cachedFetch.cache.close()
      for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true })
    }
  }
  return rows
}

/** `ENTRIES` responses of `bodyBytes` each, written straight through the store. */
async function fill(path: string, bodyBytes: number): Promise<void> {
  const store = new SqliteStore({ path })
  const body = new Uint8Array(bodyBytes).fill(0x61)
  for (let i = 0; i < ENTRIES; i++) {
    const url = `http://127.0.0.1/maintenance/${i}`
    const now = Date.now()
    store.set(`key-${i}`, {
      v: ENTRY_VERSION,
      key: `key-${i}`,
      kind: 'response',
      method: 'GET',
      url,
      responseUrl: url,
      requestHeaders: {},
      bodyDigest: '',
      status: 200,
      statusText: 'OK',
      headers: [
        ['content-type', 'application/octet-stream'],
        ['content-length', String(bodyBytes)],
      ],
      redirected: false,
      body,
      encoding: 'identity',
      requestTime: now,
      responseTime: now,
      createdAt: now,
      expires: null,
      initialAge: 0,
    })
    // Commit as it goes, so 200 MiB is never held pending at once.
    if (i % 16 === 15) await store.flush()
  }
  await store.close()
}
