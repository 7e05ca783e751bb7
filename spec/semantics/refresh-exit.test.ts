import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { BACKGROUND_REFRESH_TIMEOUT_MS } from '../../lib/engine/background-refresh.js'
import { ROOT } from '../helpers/children.js'
import { startOrigin } from '../helpers/origin.js'

test('a background refresh to an origin that never answers does not keep a finished process alive past its timeout', async () => {
  let answered = false
  let refreshClosed!: () => void
  const closed = new Promise<void>((resolve) => (refreshClosed = resolve))
  const origin = await startOrigin({
    '/refresh': (req, res) => {
      if (!answered) {
        answered = true
        res.end('first')
        return
      }
      // Never answers: the refresh ends only when the cache gives it up.
      req.socket.once('close', refreshClosed)
    },
  })
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'refresh-exit-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, ORIGIN_URL: origin.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    // The bound: the refresh timeout, plus start-up on a loaded machine.
    const killer = setTimeout(() => child.kill('SIGKILL'), BACKGROUND_REFRESH_TIMEOUT_MS + 30_000)
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    )
    clearTimeout(killer)
    assert.equal(signal, null, `the child exited on its own (stderr: ${stderr})`)
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^done fetch-http-cache; hit; ttl=-\d+; detail=stale-while-revalidate\n$/)
    await closed // the refresh reached the origin, and was given up
    assert.equal(origin.count('/refresh'), 2)
  } finally {
    await origin.close()
  }
})
