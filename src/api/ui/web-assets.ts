/**
 * The Action Log page's built files (Vite's output, `web/dist`), read once into memory when the
 * server starts: a few small files, each with its content type, a strong ETag and a gzip copy, so
 * that serving one is a map lookup. Files under `assets/` carry a content hash in their names and
 * never change; everything else (index.html) may change with a release.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** One built file, ready to send. */
export interface WebAsset {
  body: Buffer
  /** The gzip-compressed body; absent when compression does not pay (images, tiny files). */
  gzip?: Buffer
  contentType: string
  etag: string
  /** True for content-hashed files (cached for a year); false for the page itself (revalidated). */
  immutable: boolean
}

/** The built page: its files by path relative to the build folder (`index.html`, `assets/…`). */
export type WebAssets = ReadonlyMap<string, WebAsset>

/**
 * Where the built page is: `web/dist` at the package root, the same three levels up from this
 * module in the sources (src/api/ui) and in the compiled package (dist/api/ui).
 */
export const WEB_DIST_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/dist')

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}
// Worth compressing: text. Below this size the gzip header costs more than it saves.
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json'])
const MIN_GZIP_BYTES = 512

/** Every file under `dir`, as paths relative to it with `/` separators. */
function listFiles(dir: string, root = dir): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    // Build bookkeeping (the source hash) is not part of the page.
    if (name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listFiles(path, root))
    else out.push(relative(root, path).split(sep).join('/'))
  }
  return out
}

/**
 * Reads the built page from `dir`; undefined when it has not been built (no index.html): the
 * server then still runs, and `/ui` says how to build the page.
 */
export function loadWebAssets(dir: string = WEB_DIST_DIR): WebAssets | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined
  try {
    return readAssets(dir)
  } catch (err) {
    // A build swapping the folder at this very moment (web/build.ts): as if not built yet.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function readAssets(dir: string): WebAssets {
  const assets = new Map<string, WebAsset>()
  for (const path of listFiles(dir)) {
    const ext = extname(path).toLowerCase()
    const contentType = CONTENT_TYPES[ext]
    // Only known types are served: nothing in the folder is sent with a guessed type.
    if (!contentType) continue
    const body = readFileSync(join(dir, path))
    const gzip =
      COMPRESSIBLE.has(ext) && body.length >= MIN_GZIP_BYTES
        ? gzipSync(body, { level: 9 })
        : undefined
    assets.set(path, {
      body,
      ...(gzip ? { gzip } : {}),
      contentType,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: path.startsWith('assets/'),
    })
  }
  return assets
}
