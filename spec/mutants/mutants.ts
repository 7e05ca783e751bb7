/**
 * The deliberate mutants of `npm run mutants` (spec/mutants/run.ts): each breaks one core path of
 * lib/ the way a plausible bug would, and names the spec files that must then fail. Each `from` must
 * occur exactly once in its file: when the code moves, the run says which mutant to update.
 */
export interface Mutant {
  name: string
  /** What the mutant breaks, as a user would see it. */
  breaks: string
  edits: readonly { file: string; from: string; to: string }[]
  /** The spec files that guard this path (kept few, so the check stays short). */
  specs: readonly string[]
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'no-store-write',
    breaks: 'a response is never written, yet claimed stored: nothing is ever a hit',
    edits: [{ file: 'lib/engine/engine.ts', from: 'written = this.#write(writes)', to: 'written = Promise.resolve()' }],
    specs: ['spec/rfc9111/cache-status.test.ts', 'spec/semantics/credentials.test.ts'],
  },
  {
    name: 'no-renewal-write',
    breaks: 'a 304 freshens the entry for one answer only on a store without refresh() (Redis): every later use revalidates',
    edits: [{ file: 'lib/engine/engine.ts', from: 'else await this.store.set(entry.key, entry)', to: '' }],
    specs: ['spec/stores/memory.test.ts'],
  },
  {
    name: 'no-refresh-write',
    breaks: 'a 304 freshens the entry for one answer only on a store with refresh() (SQLite, memory)',
    edits: [{ file: 'lib/engine/engine.ts', from: 'await refreshing.refresh(entry.key, entry, storedAt)', to: 'void storedAt' }],
    specs: ['spec/stores/memory.test.ts'],
  },
  {
    name: 'stored-always-true',
    breaks: 'cacheInfo(r).stored claims a write that failed',
    edits: [{ file: 'lib/engine/store-and-pass.ts', from: 'confirm(ok)', to: 'confirm(true)' }],
    specs: ['spec/reliability/broken-store.test.ts'],
  },
  {
    name: 'credentials-in-clear',
    breaks: 'Authorization, Cookie and credentialHeaders are written to the store as sent',
    edits: [
      {
        file: 'lib/request/key.ts',
        from: 'else if (settings.credentialHeaders.includes(name)) stored[name] = hashCredential(value, secret)',
        to: 'else if (settings.credentialHeaders.includes(name)) stored[name] = value',
      },
    ],
    specs: ['spec/semantics/credentials.test.ts'],
  },
  {
    name: 'set-cookie-stored',
    breaks: "the origin's Set-Cookie is written to the store and replayed to every caller of the entry",
    edits: [
      {
        file: 'lib/policy/stored-headers.ts',
        from: 'if (!NEVER_STORED.has(name) || (keepCookies && COOKIE_FIELDS.has(name))) pairs.push([name, value])',
        to: 'if (!NEVER_STORED.has(name) || COOKIE_FIELDS.has(name)) pairs.push([name, value])',
      },
    ],
    specs: ['spec/semantics/credentials.test.ts'],
  },
  {
    name: 'no-if-none-match',
    breaks: 'a stale entry with an ETag is revalidated without If-None-Match: the origin answers 200 every time',
    edits: [{ file: 'lib/policy/freshness.ts', from: "if (etag !== null) conditional['if-none-match'] = etag", to: '' }],
    specs: ['spec/rfc9111/validation.test.ts'],
  },
  {
    name: 'vary-ignored',
    breaks: "variants of a Vary response share one key: one caller is served another caller's variant",
    edits: [
      {
        file: 'lib/request/key.ts',
        from: 'for (const name of vary) hash.update(',
        to: 'for (const name of vary.slice(0, 0)) hash.update(',
      },
    ],
    specs: ['spec/rfc9111/vary.test.ts'],
  },
  {
    name: 'no-invalidation',
    breaks: 'a successful POST, PUT or DELETE leaves the stored GET in place (RFC 9111 §4.4)',
    edits: [{ file: 'lib/engine/engine.ts', from: "await this.remove(keys, 'invalidated', urls)", to: 'void keys' }],
    specs: ['spec/rfc9111/invalidation.test.ts'],
  },
  {
    name: 'never-expired',
    breaks: 'an entry past its expiry is served as fresh',
    edits: [{ file: 'lib/policy/actions.ts', from: 'const expired = isExpired(entry, now)', to: 'const expired = false' }],
    specs: ['spec/semantics/stale.test.ts'],
  },
  {
    name: 'no-response-delay',
    breaks: 'the time a response took to arrive is left out of its age (RFC 9111 §4.2.3)',
    edits: [
      {
        file: 'lib/entry/freshness-facts.ts',
        from: 'const responseDelay = Math.max(0, responseTime - requestTime)',
        to: 'const responseDelay = 0',
      },
    ],
    specs: ['spec/rfc9111/freshness.test.ts'],
  },
  {
    name: 'no-expired-first-pruning',
    breaks: 'a SQLite cache past maxSize drops the least recently used entries before the expired ones',
    edits: [
      {
        file: 'lib/stores/sqlite-schema.ts',
        from: "'SELECT key, size, url FROM entries WHERE expires_at <= ? AND key <> ? ORDER BY expires_at'",
        to: "'SELECT key, size, url FROM entries WHERE 0 AND expires_at <= ? AND key <> ? ORDER BY expires_at'",
      },
    ],
    specs: ['spec/inspect/cache.test.ts'],
  },
  {
    name: 'stale-facts-after-304',
    breaks: "after a 304, reuse goes by the first response's Age and Cache-Control, not the 304's (RFC 9111 §4.3.4)",
    edits: [
      {
        file: 'lib/policy/stored-headers.ts',
        from: 'return withFreshnessFacts({ ...entry, headers, requestTime, responseTime })',
        to: 'return { ...entry, headers, requestTime, responseTime }',
      },
    ],
    specs: ['spec/rfc9111/validation.test.ts'],
  },
  {
    name: 'ownership-read-apart',
    breaks: "a process opening a new SQLite file sees another's schema half-written and refuses the file as foreign",
    edits: [{ file: 'lib/stores/sqlite-mark.ts', from: 'return db.transaction(() => read(db))()', to: 'return read(db)' }],
    specs: ['spec/stores/foreign-file.test.ts'],
  },
  {
    name: 'wal-switch-not-waiting',
    breaks: "opening a new SQLite file fails with 'database is locked' while another connection holds its write lock",
    edits: [
      {
        file: 'lib/stores/sqlite-file.ts',
        from: "whenNotBusy(() => db.pragma('journal_mode = WAL'), busyTimeout)",
        to: "db.pragma('journal_mode = WAL')",
      },
    ],
    specs: ['spec/stores/sqlite.test.ts'],
  },
]
