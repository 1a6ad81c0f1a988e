/**
 * The package as a user gets it: `npm pack` the checkout, install the tarball into an empty
 * project, and run the installed `actiontrail` command from its compiled dist/ (no src/, no tsx).
 * Slow (a build, then an install that may compile better-sqlite3): about a minute or more.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT } from '../helpers/spawn-server.js'

const exec = promisify(execFile)

/** What `npm pack --json` reports for one tarball. */
interface PackResult {
  filename: string
  files: { path: string }[]
}

// Files that are development material, never product.
const NOT_SHIPPED = [
  /(^|\/)[^/]*\.test\.[cm]?[jt]s$/,
  /(^|\/)fixtures?\//,
  /^src\//,
  /^test\//,
  /^bench\//,
  /^examples\//,
  /^scripts\//,
  // The Action Log page ships built (web/dist), never its sources or build script.
  /^web\/(?!dist\/)/,
  /^web\/dist\/\./,
]

/**
 * The environment for the nested npm and node: without the variables an outer `npm test` sets
 * (npm_config_local_prefix and friends would point the install back at this checkout) and
 * without NODE_OPTIONS (the test runner's `--import tsx` must not help the installed package).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep =
    /^npm_config_(cache|registry|cafile|userconfig|https?_proxy|proxy|noproxy|strict_ssl)$/i
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.test(k)) continue
    if (k === 'NODE_OPTIONS' || k.startsWith('ACTIONTRAIL_')) continue
    env[k] = v
  }
  return env
}

test(
  'the packed tarball installs into an empty project and serves from dist/',
  { timeout: 10 * 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-pack-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const env = cleanEnv()
    const npm = (args: string[], cwd: string) =>
      exec('npm', args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: 8 * 60_000 })

    // prepack rebuilds dist/ from scratch. npm prints that script's output on stderr; the slice
    // keeps the JSON report parseable should a script ever write to stdout.
    const packed = await npm(['pack', '--json', '--pack-destination', dir], ROOT)
    const json = packed.stdout.slice(packed.stdout.indexOf('[\n'))
    const [pack] = JSON.parse(json) as PackResult[]
    assert.ok(pack, 'npm pack reported a tarball')
    const paths = pack.files.map((f) => f.path)
    for (const needed of [
      'package.json',
      'bin/actiontrail.js',
      'dist/cli/main.js',
      'dist/index.js',
      'dist/index.d.ts',
      'web/dist/index.html',
      'LICENSE',
      'README.md',
    ]) {
      assert.ok(paths.includes(needed), `the tarball ships ${needed}`)
    }
    const stray = paths.filter((p) => NOT_SHIPPED.some((re) => re.test(p)))
    assert.deepEqual(stray, [], 'no tests, fixtures or sources in the tarball')

    const project = join(dir, 'project')
    mkdirSync(project)
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'pack-install-check', private: true, type: 'module' }),
    )
    await npm(
      ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, pack.filename)],
      project,
    )
    const installed = join(project, 'node_modules', 'actiontrail')
    assert.ok(!existsSync(join(installed, 'src')), 'no TypeScript sources installed')
    assert.ok(
      !existsSync(join(project, 'node_modules', 'tsx')),
      'tsx is a development dependency only',
    )

    const help = await exec('npx', ['--no-install', 'actiontrail', '--help'], {
      cwd: project,
      env,
      timeout: 60_000,
    })
    assert.match(help.stdout, /Usage: actiontrail/)
    assert.match(help.stdout, /\bserve\b/)

    const bin = join(project, 'node_modules', '.bin', 'actiontrail')
    const server = spawn(
      bin,
      [
        'serve',
        '--demo',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--db',
        join(dir, 'data', 'actiontrail.db'),
      ],
      {
        cwd: project,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    server.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')))
    server.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')))
    const exited = new Promise<number | null>((resolve) =>
      server.once('exit', (code) => resolve(code)),
    )
    t.after(async () => {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGTERM')
        await exited
      }
    })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000)
      server.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(output)
        if (m?.[1]) {
          clearTimeout(timer)
          resolve(m[1])
        }
      })
      void exited.then((code) => {
        clearTimeout(timer)
        reject(new Error(`server exited with ${code}:\n${output}`))
      })
    })

    const res = await fetch(`${url}/`)
    assert.equal(res.status, 200)
    const body = (await res.json()) as { versions: { id: string }[] }
    assert.deepEqual(body.versions.map((v) => v.id).sort(), ['v2.0', 'v2.1'])
    // The Action Log page, from the shipped build (no vite installed).
    const page = await fetch(`${url}/ui/`)
    assert.equal(page.status, 200)
    const html = await page.text()
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script, html)
    assert.equal((await fetch(`${url}${script}`)).status, 200)

    server.kill('SIGTERM')
    assert.equal(await exited, 0, `server stopped cleanly:\n${output}`)
  },
)
