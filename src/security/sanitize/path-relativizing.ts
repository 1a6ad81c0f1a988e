/**
 * Stage 3 of traceback sanitizing: absolute paths become relative ones, by the path rule
 * documented on `sanitizeTraceback` (../sanitize-traceback.ts), and home directories never survive.
 */

/**
 * Prepares the `projectRoots` option for matching: empty roots are dropped, a missing trailing
 * separator is added so that '/opt/stack/nova' never eats into '/opt/stack/nova-extra/', and the
 * longest root comes first so that it wins when several match.
 *
 * @param roots - Absolute path prefixes, as given in the options.
 * @returns The roots, each ending in a separator, longest first.
 */
export function normalizeRoots(roots: readonly string[]): string[] {
  return roots
    .filter((root) => root.length > 0)
    .map((root) => {
      if (root.endsWith('/') || root.endsWith('\\')) return root
      // A Windows root written with backslashes gets a backslash, anything else a slash.
      return root + (root.includes('\\') && !root.includes('/') ? '\\' : '/')
    })
    .sort((a, b) => b.length - a.length)
}

/** `file://` URLs; the path stops at `:line:col`, except for a Windows drive colon. */
const FILE_URL_RE = /(?<!\w)file:\/\/(?:localhost)?\/(?:[A-Za-z]:\/)?[^\s'"`<>()[\]{}|;,*?:]*/
/**
 * Windows drive paths, with single or doubled (repr) backslashes or forward
 * slashes. A user folder may contain spaces (`C:\Users\Bob Smith\`), so
 * after `Users` one segment may run through spaces up to the next separator.
 */
const WINDOWS_PATH_RE =
  /(?<![\w\\/.:-])[A-Za-z]:[\\/]+(?:[Uu][Ss][Ee][Rr][Ss][\\/]+[^\\/\n'"`<>:|?*]+(?=[\\/]))?[^\s'"`<>()[\]{}|;,*?:]+/
/**
 * POSIX absolute paths. The look-behind keeps relative paths (`nova/compute`),
 * URLs (`host/path`, `//host`), `~/x`, `$HOME/x` and `2>/dev/null` out.
 */
const POSIX_PATH_RE = /(?<![\w.~/\\$%})\]>*+-])\/[\w.~@+-][^\s'"`<>()[\]{}|;,*?:\\]*/
const PYTHON_FRAME_RE = /File "([^"\n]+)"/
/** A parenthesised span, as in Node frames `at f (/x/y.js:1:2)`; a path there may hold spaces. */
const PAREN_RE = /\(([^()\n]+)\)/

const GENERIC_PATH_SOURCE = `${FILE_URL_RE.source}|${WINDOWS_PATH_RE.source}|${POSIX_PATH_RE.source}`
const GENERIC_PATH_RE = new RegExp(GENERIC_PATH_SOURCE, 'g')
const TOP_PATH_RE = new RegExp(
  `${PYTHON_FRAME_RE.source}|${PAREN_RE.source}|(${GENERIC_PATH_SOURCE})`,
  'g',
)
const LOCATION_SUFFIX_RE = /:\d+(?::\d+)?$/
const ABSOLUTE_RE = /^(?:file:\/\/|\/|[A-Za-z]:[\\/]|\\\\)/
const PYTHON_DIR_RE = /^python\d+(?:\.\d+)?$/
const MARKER_DIRS = new Set(['src', 'lib', 'dist'])

/**
 * Last-resort pass: home directories the tokenizer did not see (odd quoting,
 * `2>/home/x/err.log`). `scheme://root:pw@host` is a URL user, not a directory.
 */
const HOME_POSIX_RE = /(?<![\w.-])(?<!:\/)\/(?:home|Users)\/[^\s/\\'"`<>()|;,:]+(\/?)/g
const HOME_ROOT_RE = /(?<![\w.-])(?<!:\/)\/root(?:(\/)|(?=[\s'"`<>()|;,:]|$))/g
const HOME_WINDOWS_RE =
  /(?<![\w\\/])[A-Za-z]:(?:\\+|\/)Users(?:\\+|\/)[^\\/\n'"`<>:|?*]+((?:\\+|\/)?)/gi

/**
 * Whether the first `count` segments are `/`, `/usr`, `/usr/local` or `/var`,
 * under which `src`, `lib` or `dist` are system directories, not project markers.
 */
function isSystemPrefix(names: readonly string[], count: number): boolean {
  if (count === 0) return true
  if (count === 1) return names[0] === 'usr' || names[0] === 'var'
  return count === 2 && names[0] === 'usr' && names[1] === 'local'
}

/** Index of the first segment after a home directory, or -1. */
function homeEnd(names: readonly string[], windows: boolean): number {
  if (!windows && names[0] === 'root') return 1
  for (let i = 0; i + 1 < names.length; i++) {
    const name = names[i] ?? ''
    if (windows ? name.toLowerCase() === 'users' : name === 'home' || name === 'Users') return i + 2
  }
  return -1
}

/**
 * Index of the first segment to keep for third-party and standard-library
 * code (rules 1-3 on `sanitizeTraceback`), or -1. These win over project
 * roots so that a virtualenv or node_modules inside the project still reads
 * as `flask/app.py` rather than `.venv/lib/python3.12/site-packages/flask/app.py`.
 */
function dependencyStart(names: readonly string[], windows: boolean): number {
  const folded = windows ? names.map((name) => name.toLowerCase()) : names
  const nodeModules = folded.lastIndexOf('node_modules')
  if (nodeModules !== -1) return nodeModules
  for (let i = folded.length - 2; i >= 0; i--) {
    if (folded[i] === 'site-packages' || folded[i] === 'dist-packages') return i + 1
  }
  for (let i = folded.length - 2; i >= 0; i--) {
    if (PYTHON_DIR_RE.test(folded[i] ?? '')) return i + 1
  }
  return -1
}

/**
 * A parent directory worth keeping next to a file name: a lower-case identifier, as package and
 * system directories are (`compute`, `nova`, `etc`, `.ssh`). Customer, release and build
 * directories are usually not (`customer-acme`, `20261201`, `v1.2.3`, `agent-7`).
 */
const KEPT_PARENT_RE = /^\.?[a-z_][a-z0-9_]*$/
/** Identifier-like directory names that still name a person, a customer, a release or a workspace. */
const DROPPED_PARENTS = new Set([
  'home',
  'users',
  'root',
  'customer',
  'customers',
  'client',
  'clients',
  'tenant',
  'tenants',
  'deploy',
  'deploys',
  'deployment',
  'deployments',
  'release',
  'releases',
  'current',
  'previous',
  'shared',
  'build',
  'builds',
  'workspace',
  'workspaces',
  'work',
  'jenkins',
  'runner',
  'runners',
  'tmp',
  'temp',
])

/**
 * Index of the first segment to keep for a path under no recognised root (rule 7 on
 * `sanitizeTraceback`): the file name, with its parent directory when that looks like a package
 * or system directory (see {@link KEPT_PARENT_RE} and {@link DROPPED_PARENTS}).
 */
function fallbackStart(folded: readonly string[], from: number): number {
  const count = folded.length
  if (count - from <= 1) return from
  const parent = folded[count - 2] ?? ''
  return KEPT_PARENT_RE.test(parent) && !DROPPED_PARENTS.has(parent) ? count - 2 : count - 1
}

/** Index of the first segment to keep for other code (rules 5-7 on `sanitizeTraceback`). */
function projectStart(names: readonly string[], windows: boolean): number {
  const folded = windows ? names.map((name) => name.toLowerCase()) : names
  const count = folded.length
  for (let i = 0; i < count - 1; i++) {
    if (MARKER_DIRS.has(folded[i] ?? '') && (windows ? i > 0 : !isSystemPrefix(folded, i))) return i
  }
  // A repository checked out under its own name holds its top package: `…/nova/nova/compute/x.py`.
  for (let i = count - 2; i > 0; i--) {
    if (folded[i] === folded[i - 1]) return i
  }
  const home = homeEnd(names, windows)
  return fallbackStart(folded, home === -1 ? 0 : home)
}

function rewritePath(raw: string, roots: readonly string[]): string {
  let path = raw
  if (path.startsWith('file://')) {
    path = path.slice('file://'.length)
    if (path.startsWith('localhost/')) path = path.slice('localhost'.length)
    if (/^\/[A-Za-z]:\//.test(path)) path = path.slice(1)
  }
  const windows = /^[A-Za-z]:/.test(path)
  const body = windows ? path.slice(2) : path
  const segments = [...body.matchAll(/[^\\/]+/g)].map((m) => ({ name: m[0], start: m.index }))
  if (segments.length === 0) return '.'
  const names = segments.map((segment) => segment.name)
  const dependency = dependencyStart(names, windows)
  if (dependency === -1) {
    for (const root of roots) {
      if (path.startsWith(root) || path === root.slice(0, -1)) {
        return path.slice(root.length).replace(/^[\\/]+/, '') || '.'
      }
    }
  }
  const kept = segments[dependency === -1 ? projectStart(names, windows) : dependency]
  // Only a path that is exactly a home directory runs out of segments.
  return kept === undefined ? '~' : body.slice(kept.start)
}

function rewriteGenericPaths(text: string, roots: readonly string[]): string {
  return text.replace(GENERIC_PATH_RE, (path: string) => rewritePath(path, roots))
}

function stripHomeDirectories(text: string): string {
  const unhome = (_match: string, separator: string | undefined): string => (separator ? '' : '~')
  return text
    .replace(HOME_POSIX_RE, unhome)
    .replace(HOME_ROOT_RE, unhome)
    .replace(HOME_WINDOWS_RE, unhome)
}

/**
 * Rewrites every absolute path in the text to a relative one (the path rule on
 * `sanitizeTraceback`), then removes any home directory the rule did not see.
 *
 * @param text - Any text, control characters already stripped.
 * @param roots - Project roots from {@link normalizeRoots}.
 * @returns The text with no absolute path and no home directory left.
 */
export function relativizePaths(text: string, roots: readonly string[]): string {
  if (!/[/\\]/.test(text)) return text
  const rewritten = text.replace(
    TOP_PATH_RE,
    (match: string, pythonPath?: string, parenthesised?: string, generic?: string) => {
      if (pythonPath !== undefined) {
        return ABSOLUTE_RE.test(pythonPath) ? `File "${rewritePath(pythonPath, roots)}"` : match
      }
      if (parenthesised !== undefined) {
        const location = LOCATION_SUFFIX_RE.exec(parenthesised)
        const path = location === null ? '' : parenthesised.slice(0, location.index)
        if (location !== null && ABSOLUTE_RE.test(path)) {
          return `(${rewritePath(path, roots)}${location[0]})`
        }
        return `(${rewriteGenericPaths(parenthesised, roots)})`
      }
      return generic === undefined ? match : rewritePath(generic, roots)
    },
  )
  return stripHomeDirectories(rewritten)
}
