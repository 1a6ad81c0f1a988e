/**
 * Builds the Action Log page with Vite into `web/dist` (which ships in the package), and rebuilds
 * it only when its sources changed: `ensureWebBuilt()` compares a hash of the sources with the one
 * stored next to the last build. `npm start` (prestart) and the tests call it, so a checkout never
 * serves a missing or stale page; `npm run build` always builds.
 *
 *     tsx web/build.ts           # build when missing or stale
 *     tsx web/build.ts --force   # build anyway
 * @module
 */
import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The page's Vite root. */
export const WEB_ROOT = dirname(fileURLToPath(import.meta.url))
/** Where the built page goes (src/api/ui/web-assets.ts serves it from there). */
export const WEB_DIST = join(WEB_ROOT, 'dist')
/** Where the page is served; Vite writes absolute asset URLs under it. */
export const WEB_BASE = '/ui/'
const HASH_FILE = '.source-hash'

/** Every file the build reads from the repository (not node_modules), sorted. */
function sourceFiles(dir = WEB_ROOT): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (dir === WEB_ROOT && (name === 'dist' || name.startsWith('dist.'))) continue
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else out.push(path)
  }
  return out
}

/** A hash of the page's sources and of the versions of what the build bundles. */
export function sourceHash(): string {
  const hash = createHash('sha256')
  for (const file of sourceFiles()) {
    hash.update(relative(WEB_ROOT, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  for (const pkg of ['vite', 'eventsource-parser']) {
    const json = join(WEB_ROOT, '..', 'node_modules', pkg, 'package.json')
    if (existsSync(json))
      hash
        .update(pkg)
        .update((JSON.parse(readFileSync(json, 'utf8')) as { version: string }).version)
  }
  return hash.digest('hex')
}

/** True when `web/dist` holds a build of the current sources. */
export function webBuildIsCurrent(hash = sourceHash()): boolean {
  const file = join(WEB_DIST, HASH_FILE)
  return existsSync(file) && readFileSync(file, 'utf8').trim() === hash
}

/**
 * Builds the page into a fresh folder and moves it into place, so that a server never reads a
 * half-written build. Callers hold the build lock.
 */
async function buildOnce(): Promise<void> {
  // Imported here: vite is a development dependency, absent from an installed package.
  const { build } = await import('vite')
  const hash = sourceHash()
  const outDir = `${WEB_DIST}.${process.pid}.${Date.now()}`
  await build({
    root: WEB_ROOT,
    base: WEB_BASE,
    configFile: false,
    logLevel: 'warn',
    publicDir: join(WEB_ROOT, 'public'),
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      // Every browser the page supports has modulepreload; the polyfill would add code for none.
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
    },
  })
  writeFileSync(join(outDir, HASH_FILE), `${hash}\n`)
  // The old build is moved aside before it is removed, so the swap leaves no partial folder.
  const old = `${WEB_DIST}.old.${process.pid}`
  if (existsSync(WEB_DIST)) renameSync(WEB_DIST, old)
  renameSync(outDir, WEB_DIST)
  rmSync(old, { recursive: true, force: true })
}

const LOCK = join(WEB_ROOT, 'dist.lock')
// A lock older than this was left by a build that died; builds take seconds.
const STALE_LOCK_MS = 5 * 60_000

/** Runs `work` while holding the build lock (test files start in parallel and may all build). */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 2 * STALE_LOCK_MS
  for (;;) {
    try {
      closeSync(openSync(LOCK, 'wx'))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
      if (age > STALE_LOCK_MS) rmSync(LOCK, { force: true })
      else if (Date.now() > deadline) throw new Error(`${LOCK} is held: is another build stuck?`)
      else await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  try {
    return await work()
  } finally {
    rmSync(LOCK, { force: true })
  }
}

/** Builds the page when `web/dist` is missing or stale; true when it built. */
export async function ensureWebBuilt(): Promise<boolean> {
  if (webBuildIsCurrent()) return false
  // Checked again under the lock: another process may have built it meanwhile.
  return withBuildLock(async () => {
    if (webBuildIsCurrent()) return false
    await buildOnce()
    return true
  })
}

/** Builds the page whatever its state (`npm run build`). */
export async function buildWeb(): Promise<void> {
  await withBuildLock(buildOnce)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const force = process.argv.includes('--force')
  const built = force ? (await buildWeb(), true) : await ensureWebBuilt()
  console.log(
    built ? `Built the Action Log page into ${WEB_DIST}` : 'The Action Log page is up to date.',
  )
}
