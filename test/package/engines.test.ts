/**
 * Every installed package must accept the running Node: one that does not (cookie@2 wanted
 * Node >= 22 under fastify's light-my-request) makes `npm ci` print EBADENGINE on Node 20, and
 * may use APIs Node 20 lacks. package.json `overrides` is where such a package gets pinned.
 */
import assert from 'node:assert/strict'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { ROOT } from '../helpers/spawn-server.js'

// semver comes with fastify (a runtime dependency); its types are not installed, so the one
// function used here is typed by hand rather than adding @types/semver for a test.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean
}

/** An installed package whose `engines.node` excludes a Node version. */
interface EngineMismatch {
  path: string
  name: string
  version: string
  node: string
}

/** Package folders directly inside one node_modules folder, scoped ones included. */
function packageDirs(nodeModules: string): string[] {
  const dirs: string[] = []
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const dir = join(nodeModules, entry.name)
    if (!entry.name.startsWith('@')) dirs.push(dir)
    else
      for (const scoped of readdirSync(dir, { withFileTypes: true }))
        if (scoped.isDirectory()) dirs.push(join(dir, scoped.name))
  }
  return dirs
}

/**
 * Walks a node_modules tree, nested node_modules folders included (where npm puts a version that
 * differs from the hoisted one, as an override does), and lists the packages that refuse `nodeVersion`.
 */
function engineMismatches(nodeModules: string, nodeVersion: string): EngineMismatch[] {
  const found: EngineMismatch[] = []
  const pending = [nodeModules]
  for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
    for (const dir of packageDirs(folder)) {
      const manifest = join(dir, 'package.json')
      if (existsSync(manifest)) {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
          name?: string
          version?: string
          engines?: { node?: unknown }
        }
        const node = pkg.engines?.node
        if (typeof node === 'string' && !semver.satisfies(nodeVersion, node)) {
          found.push({
            path: dir.slice(nodeModules.length + 1),
            name: pkg.name ?? '?',
            version: pkg.version ?? '?',
            node,
          })
        }
      }
      const nested = join(dir, 'node_modules')
      if (existsSync(nested)) pending.push(nested)
    }
  }
  return found
}

test('every installed package accepts the running Node', () => {
  const mismatches = engineMismatches(join(ROOT, 'node_modules'), process.version)
  assert.deepEqual(mismatches, [], `packages that refuse Node ${process.version}`)
})

test('the walk finds a refusing package at the top, in a scope and nested', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'actiontrail-engines-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const write = (dir: string, pkg: object) => {
    mkdirSync(join(root, dir), { recursive: true })
    writeFileSync(join(root, dir, 'package.json'), JSON.stringify(pkg))
  }
  write('cookie', { name: 'cookie', version: '2.0.2', engines: { node: '>=22' } })
  write('fine', { name: 'fine', version: '1.0.0', engines: { node: '>=18' } })
  write('no-engines', { name: 'no-engines', version: '1.0.0' })
  write('@scope/pkg', {
    name: '@scope/pkg',
    version: '1.0.0',
    engines: { node: '^22.12.0 || >=24' },
  })
  write('fine/node_modules/inner', { name: 'inner', version: '3.0.0', engines: { node: '>=22' } })
  const names = engineMismatches(root, 'v20.19.0')
    .map((m) => `${m.path} ${m.node}`)
    .sort()
  assert.deepEqual(names, [
    '@scope/pkg ^22.12.0 || >=24',
    'cookie >=22',
    'fine/node_modules/inner >=22',
  ])
})
