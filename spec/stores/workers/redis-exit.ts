// Run as a child process by spec/stores/redis.test.ts: a script that uses a Redis store and never
// closes it. It must finish its awaits (the pending commands keep it alive) and then exit by itself
// (the idle connection does not).
import { RedisStore } from '../../../lib/stores/redis.js'
import { makeEntry } from '../../helpers/entries.js'

const [url, prefix] = process.argv.slice(2) as [string, string]
const store = new RedisStore({ url, prefix, commandTimeout: 10_000, connectTimeout: 30_000 })
await store.ready()
await store.set('k', makeEntry({ key: 'k', expires: null }))
const entry = await store.get('k')
process.stdout.write(`${JSON.stringify({ stored: entry !== undefined })}\n`)
