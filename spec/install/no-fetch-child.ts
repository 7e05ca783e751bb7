/**
 * A process without a global fetch (as Node 22's `--no-experimental-fetch` makes it; Node 24 dropped
 * the flag): `globalThis.fetch` is deleted before anything reads it. Prints one JSON line of what it saw.
 */
Reflect.deleteProperty(globalThis, 'fetch')
const http = await import('node:http')
const undici = await import('undici')
const pkg = await import('../../lib/index.js')

const server = http.createServer((_req, res) => {
  res.setHeader('cache-control', 'max-age=600')
  res.end('hello')
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
const dispatcher = undici.getGlobalDispatcher()
let installError: string | undefined
try {
  pkg.installCache({ backend: 'memory' })
} catch (error) {
  installError = String(error)
}
const statuses: (string | string[] | undefined)[] = []
for (let i = 0; i < 2; i++) {
  const response = await undici.request(url)
  await response.body.text()
  statuses.push(response.headers['cache-status'])
}
const fetchAfterInstall = typeof globalThis.fetch
let sessionError: { name: string; code: string | undefined } | undefined
try {
  pkg.createCachedFetch({ backend: 'memory' })
} catch (error) {
  sessionError = { name: (error as Error).name, code: (error as { code?: string }).code }
}
pkg.uninstallCache()
const result = {
  installError,
  statuses,
  fetchAfterInstall,
  sessionError,
  installedAfterUninstall: pkg.isInstalled(),
  fetchAfterUninstall: typeof globalThis.fetch,
  dispatcherRestored: undici.getGlobalDispatcher() === dispatcher,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
server.close()
