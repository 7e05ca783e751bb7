#!/usr/bin/env node
// The package as a user gets it (`npm run test:pack`, and a phase of .ci/run): `npm pack` of the built
// package, installed from the tarball into a fresh app (its dependencies from the registry or npm's
// cache), with no dev tools in the app. Then, on each Node given (default: this one):
//   - the CommonJS consumer (pack/cjs.cjs): `require()` of the ESM package (Node 22.12 and later);
//   - the CLI: `fetch-http-cache --version`, and `stats` on the file the ESM consumer wrote;
// and once: the strict TypeScript consumer (pack/consumer.ts), compiled with TypeScript and @types/node
// installed beside the app, not in it (strict, exactOptionalPropertyTypes, no skipLibCheck), against
// Node's own lib and against the DOM lib too, then run on each Node as the ESM consumer.
//
//   node .ci/pack-test.mjs [NODE_BIN_DIR ...]     (after `npm run build`)
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const HERE = join(ROOT, '.ci', 'pack')
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const nodes = process.argv.length > 2 ? process.argv.slice(2).map((dir) => join(dir, 'node')) : [process.execPath]
const work = mkdtempSync(join(tmpdir(), 'fetch-http-cache-pack-'))
const started = Date.now()
const run = promisify(execFile)

/** Runs a command, printing it; its output is returned (and printed when `show`). Throws when it fails. */
function sh(file, args, { cwd = work, show = false } = {}) {
  console.log(`$ ${[file, ...args].join(' ')}${cwd === work ? '' : `   (in ${cwd})`}`)
  let out
  try {
    out = execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 })
  } catch (error) {
    if (error.stdout?.trim()) console.log(error.stdout.trimEnd())
    throw new Error(`${file} ${args[0] ?? ''} failed (${error.signal ?? `exit status ${error.status}`})`)
  }
  if (show && out.trim()) console.log(out.trimEnd())
  return out
}

function step(title) {
  console.log(`\n-- ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}

try {
  step('npm pack')
  const [packed] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }))
  const stray = packed.files.map((f) => f.path).filter((path) => !/^(dist\/|README\.md$|LICENSE$|package\.json$)/.test(path))
  if (stray.length > 0) throw new Error(`the tarball holds files outside dist/: ${stray.join(', ')}`)
  if (!packed.files.some((f) => f.path === 'dist/index.d.ts')) throw new Error('the tarball has no dist/index.d.ts')
  console.log(`${packed.filename}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB`)

  step('a fresh app: npm install of the tarball (and undici, which the consumers import)')
  const app = join(work, 'app')
  sh('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-consumer', private: true, type: 'module' }, null, 2))
  sh('npm', ['install', '--no-audit', '--no-fund', join(work, packed.filename), `undici@${manifest.dependencies.undici}`], {
    cwd: app,
    show: true,
  })
  const installed = sh('npm', ['ls', '--all', '--parseable'], { cwd: app })
  const devTools = ['typescript', 'tsx', '@types/node', '@types/better-sqlite3', '@biomejs/biome', 'redis']
  const present = devTools.filter((name) => installed.split('\n').some((line) => line.endsWith(`/node_modules/${name}`)))
  if (present.length > 0) throw new Error(`the app got dev tools: ${present.join(', ')}`)

  step('TypeScript and @types/node beside the app (never in it)')
  const tools = join(work, 'tools')
  sh('mkdir', ['-p', tools])
  writeFileSync(join(tools, 'package.json'), JSON.stringify({ name: 'pack-tools', private: true }))
  const { typescript, '@types/node': typesNode } = manifest.devDependencies
  sh('npm', ['install', '--no-audit', '--no-fund', `typescript@${typescript}`, `@types/node@${typesNode}`], { cwd: tools })

  step('compile the strict consumer (no skipLibCheck), with Node’s lib and with the DOM lib')
  copyFileSync(join(HERE, 'consumer.ts'), join(app, 'consumer.ts'))
  const strict = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [join(tools, 'node_modules', '@types')],
    outDir: 'build',
  }
  const tsc = join(tools, 'node_modules', 'typescript', 'bin', 'tsc')
  const configs = [
    ['tsconfig.json', ['ES2023']],
    ['tsconfig.dom.json', ['ES2023', 'DOM']],
  ]
  // The two compiles side by side (each is one busy core for a while); only the first emits.
  const compiled = await Promise.allSettled(
    configs.map(([name, lib]) => {
      const noEmit = lib.includes('DOM')
      writeFileSync(join(app, name), JSON.stringify({ compilerOptions: { ...strict, lib, noEmit }, files: ['consumer.ts'] }))
      console.log(`$ tsc -p ${name}`)
      return run(process.execPath, [tsc, '-p', name], { cwd: app, timeout: 180_000 })
    }),
  )
  compiled.forEach((result, i) => {
    if (result.status === 'fulfilled') return
    console.log(String(result.reason.stdout ?? result.reason).trimEnd())
    throw new Error(`tsc -p ${configs[i][0]} failed`)
  })
  copyFileSync(join(HERE, 'cjs.cjs'), join(app, 'cjs.cjs'))

  for (const node of nodes) {
    const version = sh(node, ['--version']).trim()
    step(`run the consumers and the CLI on Node ${version}`)
    const data = mkdtempSync(join(work, 'data-'))
    sh(node, [join('build', 'consumer.js'), data], { cwd: app, show: true })
    sh(node, ['cjs.cjs'], { cwd: app, show: true })
    const cli = join(app, 'node_modules', 'fetch-http-cache', manifest.bin['fetch-http-cache'])
    const printed = sh(node, [cli, '--version'], { cwd: app, show: true }).trim()
    if (printed !== `${manifest.name} ${manifest.version}`) throw new Error(`--version printed "${printed}"`)
    const stats = JSON.parse(sh(node, [cli, 'stats', '--json', '--db', join(data, 'consumer.sqlite')], { cwd: app }))
    if (stats.responses !== 1) throw new Error(`stats found ${stats.responses} responses in the consumer's file, expected 1`)
    console.log(`fetch-http-cache stats: ${stats.responses} response in the file the consumer wrote`)
  }
  console.log(`\npack test passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
} catch (error) {
  console.error(`\npack test FAILED: ${error.message}`)
  process.exitCode = 1
} finally {
  rmSync(work, { recursive: true, force: true })
}
