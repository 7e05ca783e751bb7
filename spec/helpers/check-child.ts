import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { ROOT } from './children.js'

/** One check a child reported (a line `check <json>` on its stdout). */
export interface ReportedCheck {
  id: string
  ok: boolean
  detail: string
  skip?: string
}

/** What a checking child said, and how it ended. */
export interface ChildReport {
  checks: Map<string, ReportedCheck>
  /** Why checks may be missing: a timeout, a crash, a fatal error; with the tail of stderr. */
  problem: string
}

/**
 * Runs `node --import tsx <file>` with `env` added, collecting the checks it reports. Never rejects:
 * a child that crashes or outlives `timeoutMs` (then SIGKILLed) yields the checks it reported before,
 * and says why the rest are missing.
 */
export function runCheckChild(file: string, env: Record<string, string>, timeoutMs: number): Promise<ChildReport> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    const checks = new Map<string, ReportedCheck>()
    const notes: string[] = []
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-3000)
    })
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('check ')) {
        const check = JSON.parse(line.slice('check '.length)) as ReportedCheck
        checks.set(check.id, check)
      } else if (line.startsWith('fatal ')) notes.push(`the child failed: ${JSON.parse(line.slice('fatal '.length))}`)
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const finish = (how: string) => {
      clearTimeout(timer)
      if (timedOut) notes.unshift(`the child was killed after ${timeoutMs} ms`)
      else notes.unshift(how)
      resolve({ checks, problem: `${notes.join('; ')}\n--- child stderr (tail) ---\n${stderr}` })
    }
    child.on('error', (error) => finish(`the child could not start: ${error.message}`))
    child.on('close', (code, signal) => finish(`the child exited with ${signal ?? code}`))
  })
}

/** Runs `jobs` with at most `limit` at a time; each promise resolves with its job's result. */
export function limited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T>[] {
  let running = 0
  const queue: (() => void)[] = []
  const next = () => {
    running--
    queue.shift()?.()
  }
  return jobs.map(
    (job) =>
      new Promise<T>((resolve, reject) => {
        const start = () => {
          running++
          job().then(resolve, reject).finally(next)
        }
        if (running < limit) start()
        else queue.push(start)
      }),
  )
}
