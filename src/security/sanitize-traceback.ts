/**
 * Sanitizer for the tracebacks of failed instance-action events.
 *
 * Tracebacks arrive from many services (Nova compute and API workers, Node
 * sidecars) and routinely carry things that must never reach the audit store:
 * database URLs with passwords in oslo.db errors, auth headers dumped by HTTP
 * clients, private keys handed to injection helpers, home directories that
 * name people, terminal escape sequences that rewrite what a reader sees.
 * Everything here is a pure string transform so that it can run on the
 * recorder's write path and be tested exhaustively.
 *
 * Pipeline, in this order (see {@link sanitizeTraceback}):
 * 1. Newlines are normalized and control, bidi and zero-width characters are
 *    removed, so that nothing invisible can split a key name or hide a secret
 *    from the masking rules.
 * 2. Secrets are masked ({@link maskSecrets}).
 * 3. Absolute paths become relative ones (rules on {@link sanitizeTraceback}).
 * 4. The result is capped at {@link MAX_TRACEBACK_BYTES}; capping last means a
 *    cut can never leave half a secret that the masking rules no longer see.
 * The pipeline is repeated until its output no longer changes (see
 * {@link sanitizeTraceback}), which makes it idempotent.
 *
 * Every regular expression below either starts at an anchor that cannot occur
 * inside its own repetition (a look-behind on the previous character) or
 * scans a character class that excludes its terminator, and every hand-written
 * scan consumes what it reads, so the work stays linear in the input: a
 * hostile traceback cannot stall the recorder.
 *
 * @module
 */

/** The replacement for a secret value; the key or label in front of it is kept. */
export const MASK = '***'

/**
 * Upper bound on a stored traceback, in UTF-8 bytes: 64 KiB.
 *
 * That holds several hundred frames, more than any real Python or Node
 * traceback including long chains of "During handling of the above
 * exception" blocks, yet keeps a pathological payload (a dumped request body,
 * a runaway recursion) from bloating the events table. Nova keeps tracebacks
 * in a TEXT column (`instance_actions_events.traceback`), 65535 bytes on
 * MySQL: a store that mirrors that schema on MySQL should pass
 * `maxBytes: 65535`.
 */
export const MAX_TRACEBACK_BYTES = 65536

/** Options for {@link sanitizeTraceback}. */
export interface SanitizeOptions {
  /**
   * Project roots to strip: absolute path prefixes (e.g. '/opt/stack/nova/',
   * '/home/app/svc/'). Optional. A missing trailing separator is added so that
   * '/opt/stack/nova' never eats into '/opt/stack/nova-extra/'; when several
   * roots match, the longest wins. Matching is case-sensitive.
   */
  projectRoots?: readonly string[]
  /**
   * Max size in UTF-8 bytes; default {@link MAX_TRACEBACK_BYTES}. `Infinity`
   * disables the cap; a negative number or NaN throws a RangeError. A cap too
   * small to hold the cut marker (a few dozen bytes) keeps only the head.
   */
  maxBytes?: number
}

/**
 * Returns the sanitized traceback. Pure function, no I/O.
 *
 * Idempotent: `sanitizeTraceback(sanitizeTraceback(x)) === sanitizeTraceback(x)`
 * for the same options, so re-sanitizing stored data is harmless.
 *
 * Size cap. Over `maxBytes`, a quarter of the budget keeps the head (outer
 * frames, a Node error's message) and the rest the tail (a Python traceback's
 * innermost frames and exception), joined by a line
 * `... [N bytes removed] ...`, where N counts the bytes of the sanitized text
 * left out. Cuts fall on code-point boundaries, preferably at a line break,
 * and the marker counts towards the cap.
 *
 * Path rule. Every absolute path (POSIX, `file://` URL, Windows drive path;
 * inside Python `File "..."` frames and Node `(...:line:col)` frames a path
 * may contain spaces) is rewritten by the first rule that applies:
 * 1. everything up to the last `node_modules/` is removed, keeping `node_modules/`;
 * 2. everything up to and including the last `site-packages/` or
 *    `dist-packages/` is removed (this covers virtualenvs);
 * 3. everything up to and including a `pythonX.Y/` directory is removed
 *    (the standard library: `/usr/lib/python3.11/threading.py` → `threading.py`);
 * 4. a matching `projectRoots` prefix is removed (after rules 1-3, so that a
 *    virtualenv inside the project still reads `flask/app.py`);
 * 5. everything before the first `src/`, `lib/` or `dist/` directory is
 *    removed, keeping that directory, unless it sits directly under `/`,
 *    `/usr`, `/usr/local` or `/var` (so `/usr/src/app/src/x.ts` → `src/x.ts`
 *    and `/var/lib/nova/...` is not mistaken for a project);
 * 6. a home directory (`/home/<user>/`, `/Users/<user>/`, `/root/`,
 *    `C:\Users\<user>\`) and everything before it is removed;
 * 7. otherwise only the leading separator (and drive letter) is dropped, so
 *    `/etc/nova/nova.conf` → `etc/nova/nova.conf`.
 *
 * The result never starts with a separator, keeps the original separator
 * style (`src\a.ts` on Windows), and keeps `:line:col` suffixes. Paths that
 * are exactly a home directory become `~`; `node:internal/...` frames and
 * URLs (`https://host/path`), `~/x` and `$HOME/x` are left alone. An HTTP request
 * path in a log line (`POST /v2.1/servers`) looks like a path and loses its
 * leading slash; that is harmless and keeps the rule simple. A final pass
 * removes any `/home/<user>/`, `/Users/<user>/` or `/root/` prefix the rules
 * did not see, so a home directory never survives.
 *
 * @param text - Raw traceback, any size.
 * @param options - Project roots and size cap.
 * @returns The sanitized traceback, at most `maxBytes` UTF-8 bytes.
 * @throws RangeError when `maxBytes` is negative or NaN.
 */
export function sanitizeTraceback(text: string, options: SanitizeOptions = {}): string {
  const maxBytes = resolveMaxBytes(options.maxBytes)
  const roots = normalizeRoots(options.projectRoots ?? [])
  // Each stage is idempotent on its own, but one can expose input for another:
  // stripping `C:\Users\bob\` can leave `password=x` at the start of a token
  // where the masking rules now see it. Re-running until nothing changes makes
  // the whole idempotent and closes such gaps; real tracebacks settle on the
  // second pass, which then only re-reads at most maxBytes.
  let out = sanitizeOnce(text, roots, maxBytes)
  for (let pass = 1; pass < MAX_PASSES; pass++) {
    const again = sanitizeOnce(out, roots, maxBytes)
    if (again === out) break
    out = again
  }
  return out
}

/**
 * Upper bound on pipeline passes. Real input settles in the first pass (the
 * second only confirms it); contrived input that chains rules needs three.
 */
const MAX_PASSES = 4

function sanitizeOnce(text: string, roots: readonly string[], maxBytes: number): string {
  const clean = stripControlChars(text)
  const masked = maskSecrets(clean)
  const relative = relativizePaths(masked, roots)
  return capBytes(relative, maxBytes)
}

/**
 * Masks secrets in any free text (used also for `details` messages and log
 * lines): same secret rules as {@link sanitizeTraceback}, no path rewriting,
 * no size cap, no control-character stripping (callers that store untrusted
 * text verbatim should prefer sanitizeTraceback, which strips first so that a
 * zero-width character cannot split a key name).
 *
 * Rules, applied in this order:
 * - PEM private-key blocks keep their BEGIN and END lines and the body becomes
 *   `***` on its own line: `-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----`.
 *   The separator style is preserved, so a key embedded in a repr with
 *   literal `\n` escapes stays on one line. A block without an END line is
 *   masked to the end of the text (to the end of the line when the key is in
 *   escaped one-line form, as its body cannot continue past it).
 * - Credentials in URLs: `scheme://user:password@host` keeps user and host,
 *   including oslo.messaging's comma-separated multi-host form.
 * - Key/value pairs (`key=value`, `key: value`, `"key": "value"`,
 *   `'key': 'value'`, `key => value`, `--key value`, also JSON-escaped and
 *   Python `b'...'` forms), case-insensitively, when the key's last word is
 *   or ends in a sensitive word (password, passwd, pwd, passphrase, secret,
 *   token, credential(s), cookie, authorization, signature; `pass` only as a
 *   whole word), or when two adjacent words anywhere in it form a sensitive
 *   pair (api_key/apikey/api-key, access_key, secret_key, private_key,
 *   session_id/sessionid). Words come from `_`, `-`, `.` and camelCase, so
 *   `bypass`, `passport`, `passed`, `token_expired` and `password_length`
 *   are left alone while `OS_PASSWORD`, `PGPASSWORD`, `adminPass` and
 *   `X-Auth-Token` are masked. `Authorization`, `Proxy-Authorization`,
 *   `Cookie` and `Set-Cookie` headers are masked to the end of the line
 *   (`Authorization: ***`), the scheme included.
 * - Well-known token shapes anywhere: AWS access key ids (AKIA/ASIA), Keystone
 *   fernet tokens, JWTs, GitHub and Slack tokens, `Bearer <token>`.
 *
 * Trade-offs:
 * - A value is masked only when it follows the key with a separator; a
 *   secret in prose ("the password is hunter2") cannot be told from words.
 * - Source lines quoted in Python tracebacks are masked like data, so
 *   `self.token = token` becomes `self.token = ***` and `password: str`
 *   becomes `password: ***`: a bare identifier cannot be told from a literal
 *   secret that looks like one, and losing a variable name costs less than
 *   leaking a password.
 * - A PascalCase key followed by a colon (`InvalidToken: Signature did not
 *   match`) is an exception class name, not a key, and is left alone.
 * - Unquoted values that are plainly not secrets (None, null, undefined, nil,
 *   true/false, YES/NO as in MySQL's "using password: YES") are kept.
 * - Dict values (`"token": {...}`) are not masked as a whole; their inner
 *   keys are judged on their own. Lists under a sensitive key have every
 *   string literal masked, since a list of cookies has no inner keys.
 * - A label in front of another pair (`Credentials: aws_access_key_id = x`)
 *   is not a value; the pair after it is judged on its own.
 * - A bare `key` is not sensitive: sort keys, dict keys and `KeyError: 'key'`
 *   are far more common in tracebacks than key material under that name.
 * - `Bearer <token>` in prose needs a digit in the token, so that "Bearer
 *   authentication failed" survives.
 *
 * @param text - Any text.
 * @returns The text with every recognized secret value replaced by {@link MASK}.
 */
export function maskSecrets(text: string): string {
  if (text === '') return text
  let out = maskPemBlocks(text)
  out = maskUrlCredentials(out)
  out = maskKeyValuePairs(out, KEY_VALUE_RE)
  out = maskKeyValuePairs(out, CLI_FLAG_RE)
  out = maskKnownTokens(out)
  return out
}

// ---------------------------------------------------------------------------
// Options

function resolveMaxBytes(value: number | undefined): number {
  if (value === undefined) return MAX_TRACEBACK_BYTES
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`maxBytes must be a non-negative number, got ${value}`)
  }
  return value === Infinity ? value : Math.floor(value)
}

function normalizeRoots(roots: readonly string[]): string[] {
  return roots
    .filter((root) => root.length > 0)
    .map((root) => {
      if (root.endsWith('/') || root.endsWith('\\')) return root
      // A Windows root written with backslashes gets a backslash, anything else a slash.
      return root + (root.includes('\\') && !root.includes('/') ? '\\' : '/')
    })
    .sort((a, b) => b.length - a.length)
}

// ---------------------------------------------------------------------------
// 1. Control characters

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/**
 * Invisible characters that change how text reads without being visible:
 * C0/C1 controls (except tab and newline), DEL, bidi embeddings, overrides
 * and isolates (the "Trojan Source" family), directional marks, zero-width
 * spaces and joiners, and the BOM.
 */
function isDroppedChar(code: number): boolean {
  if (code < 0x20) return code !== 0x09 && code !== 0x0a
  if (code >= 0x7f && code <= 0x9f) return true
  if (code < 0x061c) return false
  return (
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  )
}

/** Index just past a CSI sequence whose parameters start at `from`. */
function skipCsi(text: string, from: number): number {
  let i = from
  while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x3f) i++
  while (i < text.length && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++
  const final = text.charCodeAt(i)
  return final >= 0x40 && final <= 0x7e ? i + 1 : i
}

/**
 * Index just past an OSC/DCS/APC-style string starting at `from`. It ends at
 * BEL or ST; stopping at a newline keeps a missing terminator from eating the
 * rest of the traceback.
 */
function skipControlString(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === 0x07 || code === 0x9c) return i + 1
    if (code === 0x1b && text.charCodeAt(i + 1) === 0x5c) return i + 2
    if (code === 0x0a) return i
  }
  return text.length
}

/** Index just past the escape sequence introduced by ESC at `at`. */
function skipEscape(text: string, at: number): number {
  const next = text.charCodeAt(at + 1)
  if (next === 0x5b) return skipCsi(text, at + 2) // ESC [
  // ESC ] (OSC), ESC P (DCS), ESC X (SOS), ESC ^ (PM), ESC _ (APC)
  if (next === 0x5d || next === 0x50 || next === 0x58 || next === 0x5e || next === 0x5f) {
    return skipControlString(text, at + 2)
  }
  if (next >= 0x20 && next <= 0x2f) {
    // nF sequences such as ESC ( B: intermediates, then one final byte.
    let i = at + 1
    while (i < text.length && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++
    const final = text.charCodeAt(i)
    return final >= 0x30 && final <= 0x7e ? i + 1 : i
  }
  if (next >= 0x30 && next <= 0x7e) return at + 2 // two-byte Fp/Fe/Fs sequences
  return at + 1
}

/**
 * Normalizes newlines and removes control characters and whole ANSI escape
 * sequences (removing only ESC would leave `[31m` litter). Lone surrogates
 * become U+FFFD so that the text is well-formed and its UTF-8 size is exact.
 */
function stripControlChars(text: string): string {
  const parts: string[] = []
  let copied = 0
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code >= 0x20 && code < 0x7f) {
      i++
      continue
    }
    if (isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1))) {
      i += 2
      continue
    }
    let next: number
    let replacement = ''
    if (code === 0x1b) {
      next = skipEscape(text, i)
    } else if (code === 0x9b) {
      next = skipCsi(text, i + 1)
    } else if (code === 0x9d || code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) {
      next = skipControlString(text, i + 1)
    } else if (code === 0x0d) {
      // \r\n and a lone \r (old Mac, progress bars) both become one \n.
      next = i + 1
      replacement = text.charCodeAt(i + 1) === 0x0a ? '' : '\n'
    } else if (isHighSurrogate(code) || isLowSurrogate(code)) {
      next = i + 1
      replacement = '\ufffd'
    } else if (isDroppedChar(code)) {
      next = i + 1
    } else {
      i++
      continue
    }
    parts.push(text.slice(copied, i), replacement)
    i = next
    copied = next
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

// ---------------------------------------------------------------------------
// 2. Secrets

const PEM_BEGIN_RE = /-----BEGIN ([A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?)-----/g
/** Separators between a PEM header and its body: real newlines or repr escapes. */
const PEM_SEPARATOR_RE = /^(?:\\r\\n|\\n|\r?\n|[ \t])*/

/** The separator run that ends a PEM body; scanned by hand as an unanchored `(...)*$` would be quadratic. */
function trailingSeparator(body: string): string {
  let i = body.length
  while (i > 0) {
    const char = body[i - 1]
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r') i--
    else if ((char === 'n' || char === 'r') && body[i - 2] === '\\') i -= 2
    else break
  }
  return body.slice(i)
}

function maskPemBlocks(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text
  const re = new RegExp(PEM_BEGIN_RE.source, 'g')
  // Next END marker per label: a found one is reused until passed and a miss
  // stays a miss, so many unterminated blocks cannot make the search quadratic.
  const nextEnd = new Map<string, number>()
  const lineEndAt = lineEndFinder(text)
  const findFrom = (marker: string, from: number): number => {
    const known = nextEnd.get(marker)
    if (known !== undefined && (known === -1 || known >= from)) return known
    const found = text.indexOf(marker, from)
    nextEnd.set(marker, found)
    return found
  }
  const parts: string[] = []
  let copied = 0
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) {
    const label = match[1] ?? ''
    const bodyStart = match.index + match[0].length
    const lead = PEM_SEPARATOR_RE.exec(text.slice(bodyStart, bodyStart + 64))?.[0] ?? ''
    const contentStart = bodyStart + lead.length
    // Already masked (a second pass, or a block cut by the size cap): leave it.
    if (text.startsWith(MASK, contentStart)) {
      re.lastIndex = contentStart + MASK.length
      continue
    }
    const escaped = lead.startsWith('\\')
    const endMarker = `-----END ${label}-----`
    // An escaped key lives on one line, so its body cannot run past it.
    const limit = escaped ? lineEndAt(contentStart) : text.length
    const endAt = findFrom(endMarker, contentStart)
    parts.push(text.slice(copied, bodyStart))
    if (endAt === -1 || endAt > limit) {
      // Truncated block: there is no telling where the key ends, so mask it all.
      parts.push(lead || '\n', MASK)
      copied = limit
      re.lastIndex = limit
      continue
    }
    const body = text.slice(contentStart, endAt)
    const trail = trailingSeparator(body)
    parts.push(lead || '\n', MASK, trail || (lead || '\n'))
    copied = endAt
    re.lastIndex = endAt + endMarker.length
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

/**
 * `scheme://authority`: the authority stops at the path, query, fragment or
 * anything that cannot be part of a URL in a log line.
 */
const URL_AUTHORITY_RE = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s/?#'"`<>\\)]+)/g

/**
 * Masks the password of every `user:password@host` in an authority. The
 * authority may list several hosts (oslo.messaging: `u:p@h1:5672,u:p@h2:5672`);
 * a comma without an `@` after it belongs to a password, so parts are joined
 * until one contains `@`. Within a part the last `@` ends the user info
 * because passwords are often left unencoded.
 */
function maskAuthority(authority: string): string {
  if (!authority.includes('@')) return authority
  const out: string[] = []
  let pending: string[] = []
  for (const part of authority.split(',')) {
    pending.push(part)
    if (!part.includes('@')) continue
    const hostPart = pending.join(',')
    pending = []
    const at = hostPart.lastIndexOf('@')
    const userInfo = hostPart.slice(0, at)
    const colon = userInfo.indexOf(':')
    if (colon === -1 || colon === userInfo.length - 1) {
      out.push(hostPart)
    } else {
      out.push(userInfo.slice(0, colon + 1) + MASK + hostPart.slice(at))
    }
  }
  return [...out, ...pending].join(',')
}

function maskUrlCredentials(text: string): string {
  if (!text.includes('://')) return text
  return text.replace(URL_AUTHORITY_RE, (_match, scheme: string, authority: string) => scheme + maskAuthority(authority))
}

/**
 * A key (optionally quoted, optionally JSON-escaped, optionally a `--flag`),
 * then a separator. The look-behind makes a key start only at the start of a
 * word (or after a literal `\n` escape, as in a repr'd HTTP request), which
 * keeps the scan linear on long runs of word characters; `/` is excluded so
 * the user of `scheme://token:***@host` is not read as a key.
 */
const KEY_VALUE_RE = /(?:(?<![\w.\-/\\])|(?<=\\[nrt]))((?:\\?["'`])?)(-{0,2}[A-Za-z_$][\w.-]*)((?:\\?["'`])?)[ \t]*(=>|:=|=(?!=)|:(?!:))[ \t]*/g

/** CLI flags with a separate value: `--password hunter2`, `--os-token "abc"`. */
const CLI_FLAG_RE = /(?<![\w-])()(--[A-Za-z][\w-]*)()(?=[ \t]+[^\s-])([ \t]+)/g

/** Last word of a key that makes the key sensitive, also as a suffix (`PGPASSWORD`). */
const SENSITIVE_SUFFIXES = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'credential',
  'credentials',
  'cookie',
  'apikey',
  'sessionid',
  'authorization',
  'privatekey',
  'secretkey',
  'accesskey',
]

/** Last words that are sensitive only as a whole word (`pass` but not `bypass`). */
const SENSITIVE_WORDS = new Set(['pass', 'signature', 'sig'])

/** Two adjacent words that together are sensitive anywhere in a key (`api_key`, `SECRET_KEY_BASE`). */
const SENSITIVE_PAIRS = new Set([
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'sessionid',
  'authkey',
  'encryptionkey',
])

/** Headers whose value is free text up to the end of the line (`Bearer x`, `a=b; c=d`). */
const LINE_VALUE_KEYS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

/** Unquoted values that are plainly not secrets and carry meaning worth keeping. */
const PLACEHOLDER_VALUES = new Set([
  MASK,
  'None',
  'null',
  'undefined',
  'nil',
  'True',
  'False',
  'true',
  'false',
  'YES',
  'NO',
])

const AUTH_SCHEME_RE = /(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|OAuth|AWS4-HMAC-SHA256)[ \t]+(?=\S)/iy
/** A hash label in front of a value, as keystoneauth logs tokens: `{SHA256}3f5e...`. */
const HASH_PREFIX_RE = /\{[A-Za-z0-9-]{1,16}\}/y

/** Characters that end an unquoted value. */
const VALUE_STOP = new Set([...' \t\n\r\f\v,;&()[]{}\'"`<>|\\'])
const QUOTES = new Set(['"', "'", '`'])

interface KeyContext {
  quoted: boolean
  separator: string
}

function keyWords(segment: string): string[] {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase())
}

function isSensitiveKey(rawKey: string, context: KeyContext): boolean {
  const key = rawKey.replace(/^[-$]+/, '')
  const segment = key.slice(key.lastIndexOf('.') + 1)
  // `cryptography.fernet.InvalidToken: Signature did not match digest.` is an
  // exception class and its message, the commonest shape in a traceback.
  if (!context.quoted && context.separator === ':' && /^[A-Z][A-Za-z0-9]*[a-z0-9][A-Z]/.test(segment)) {
    if (!/[_-]/.test(segment)) return false
  }
  const words = keyWords(segment)
  const last = words.at(-1)
  if (last === undefined) return false
  if (SENSITIVE_WORDS.has(last)) return true
  if (SENSITIVE_SUFFIXES.some((suffix) => last.endsWith(suffix))) return true
  // A sensitive pair names the secret wherever it sits: SECRET_KEY_BASE, private_key_pem.
  return words.some((word, i) => i > 0 && SENSITIVE_PAIRS.has((words[i - 1] ?? '') + word))
}

interface Span {
  start: number
  end: number
}

/** Finds the end of the line holding a position. */
type LineEnd = (pos: number) => number

/**
 * A {@link LineEnd} that remembers the last line it found. Scans ask for
 * ever-later positions on the same line; searching from scratch each time
 * would be quadratic on a long line without newlines.
 */
function lineEndFinder(text: string): LineEnd {
  let start = 0
  let end = -1
  return (pos) => {
    // [start, end) holds no newline, so for any pos inside it the answer is still `end`.
    if (pos < start || pos > end) {
      const newline = text.indexOf('\n', pos)
      start = pos
      end = newline === -1 ? text.length : newline
    }
    return end
  }
}

/** The opening quote of a value at `pos`, if any: `'`, `"`, `` ` ``, `\"`, or Python's `b'`. */
function openingQuote(text: string, pos: number): { delimiter: string, contentStart: number } | undefined {
  let i = pos
  if ('bBuUrRfF'.includes(text[i] ?? '') && QUOTES.has(text[i + 1] ?? '')) i++
  const char = text[i] ?? ''
  if (char === '\\' && QUOTES.has(text[i + 1] ?? '')) {
    return { delimiter: text.slice(i, i + 2), contentStart: i + 2 }
  }
  return QUOTES.has(char) ? { delimiter: char, contentStart: i + 1 } : undefined
}

/** Index of the closing delimiter on the same line, skipping backslash escapes; -1 if none. */
function closingQuote(text: string, from: number, lineEnd: number, delimiter: string): number {
  if (delimiter.length === 2) {
    for (let j = from; j < lineEnd - 1; j++) {
      if (text[j] === '\\' && text[j + 1] === delimiter[1]) return j
    }
    return -1
  }
  for (let j = from; j < lineEnd; j++) {
    const char = text[j]
    if (char === '\\') j++
    else if (char === delimiter) return j
  }
  return -1
}

/** Most characters a list value under a sensitive key is scanned for; bounds the work per key. */
const MAX_LIST_SCAN = 16384

/** Every non-empty string literal inside a `[...]` value starting at `pos`, and where the list ends. */
function listStringSpans(text: string, pos: number, lineEndAt: LineEnd): { spans: Span[], end: number } {
  const spans: Span[] = []
  const limit = Math.min(text.length, pos + MAX_LIST_SCAN)
  let j = pos + 1
  while (j < limit) {
    const char = text[j] ?? ''
    if (char === ']') return { spans, end: j + 1 }
    if (QUOTES.has(char)) {
      const lineEnd = Math.min(lineEndAt(j + 1), limit)
      let close = closingQuote(text, j + 1, lineEnd, char)
      if (close === -1) close = lineEnd
      if (close > j + 1) spans.push({ start: j + 1, end: close })
      j = close + 1
      continue
    }
    j++
  }
  return { spans, end: limit }
}

/**
 * The parts of the value starting at `pos` that must be masked, and where the
 * scan should resume. `unclosedQuote` is the quote that opened the key but did
 * not close it (`-H "Authorization: Bearer x"`): the value ends there.
 */
function findValueSpans(
  text: string,
  pos: number,
  key: string,
  separator: string,
  unclosedQuote: string,
  lineEndAt: LineEnd,
): { spans: Span[], resume: number } {
  const none = { spans: [], resume: pos }
  const lineEnd = lineEndAt(pos)
  if (pos >= lineEnd) return none

  const quote = openingQuote(text, pos)
  if (quote !== undefined) {
    const close = closingQuote(text, quote.contentStart, lineEnd, quote.delimiter)
    // An unterminated string may run on; masking to the end of the line is the safe side.
    const end = close === -1 ? lineEnd : close
    if (end === quote.contentStart) return none
    return { spans: [{ start: quote.contentStart, end }], resume: end }
  }

  const first = text[pos] ?? ''
  if (first === '[') {
    const list = listStringSpans(text, pos, lineEndAt)
    return { spans: list.spans, resume: list.end }
  }

  const bareKey = key.replace(/^[-$]+/, '').toLowerCase()
  if (separator === ':' && LINE_VALUE_KEYS.has(bareKey)) {
    let end = lineEnd
    for (let j = pos; j < lineEnd; j++) {
      // In a repr'd raw request the header line ends at a literal `\r\n`.
      const escapedBreak = text[j] === '\\' && (text[j + 1] === 'r' || text[j + 1] === 'n')
      if (escapedBreak || (unclosedQuote !== '' && text.startsWith(unclosedQuote, j))) {
        end = j
        break
      }
    }
    while (end > pos && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--
    return end > pos ? { spans: [{ start: pos, end }], resume: end } : none
  }

  let start = pos
  if (first === '{') {
    HASH_PREFIX_RE.lastIndex = pos
    const prefix = HASH_PREFIX_RE.exec(text)
    // A real dict: its inner keys are judged on their own.
    if (prefix === null) return none
    start = pos + prefix[0].length
  } else if (first === '(') {
    return none
  }

  let end = start
  AUTH_SCHEME_RE.lastIndex = start
  const scheme = AUTH_SCHEME_RE.exec(text)
  if (scheme !== null) end = start + scheme[0].length
  while (end < lineEnd && !VALUE_STOP.has(text[end] ?? '')) end++
  if (end === start || PLACEHOLDER_VALUES.has(text.slice(start, end))) return none
  if (scheme === null && startsSeparator(text, end, lineEnd)) {
    // `Credentials: aws_access_key_id = ...`: a label in front of another pair, not a value.
    return none
  }
  return { spans: [{ start, end }], resume: end }
}

/** Whether a key/value separator follows `from`, after blanks on the same line. */
function startsSeparator(text: string, from: number, lineEnd: number): boolean {
  let i = from
  while (i < lineEnd && (text[i] === ' ' || text[i] === '\t')) i++
  const char = text[i]
  return (char === '=' && text[i + 1] !== '=') || (char === ':' && text[i + 1] !== ':')
}

/** Runs a key regex (groups: open quote, key, close quote, separator) and masks sensitive values. */
function maskKeyValuePairs(text: string, pattern: RegExp): string {
  const re = new RegExp(pattern.source, pattern.flags)
  const lineEndAt = lineEndFinder(text)
  const parts: string[] = []
  let copied = 0
  let match: RegExpExecArray | null
  while ((match = re.exec(text)) !== null) {
    const [whole, openQuote = '', key = '', closeQuote = '', separator = ''] = match
    const quoted = openQuote !== '' && closeQuote !== ''
    if (!isSensitiveKey(key, { quoted, separator: separator.trim() })) continue
    const unclosed = openQuote !== '' && closeQuote === '' ? openQuote : ''
    const value = findValueSpans(text, match.index + whole.length, key, separator.trim(), unclosed, lineEndAt)
    for (const span of value.spans) {
      parts.push(text.slice(copied, span.start), MASK)
      copied = span.end
    }
    re.lastIndex = Math.max(re.lastIndex, value.resume)
  }
  if (copied === 0) return text
  parts.push(text.slice(copied))
  return parts.join('')
}

/** Token shapes that are secrets wherever they appear, whatever labels them. */
const KNOWN_TOKEN_RES: readonly RegExp[] = [
  // AWS access key ids (long-term and STS).
  /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  // Keystone fernet tokens: url-safe base64 of a version byte 0x80 and a timestamp.
  /(?<![\w-])gAAAAA[\w-]{50,}={0,2}/g,
  // JWTs: base64url of '{"' twice, then a signature that may be empty (alg none).
  /(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*/g,
  // GitHub tokens.
  /(?<![\w])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})/g,
  // Slack tokens.
  /(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}/g,
]

/** `Bearer <token>` outside a header; the token must contain a digit so "Bearer authentication" survives. */
const BEARER_RE = /(?<![\w-])(Bearer)[ \t]+([\w.~+/=-]{8,})/gi

function maskKnownTokens(text: string): string {
  let out = text
  for (const re of KNOWN_TOKEN_RES) out = out.replace(re, MASK)
  return out.replace(BEARER_RE, (match: string, scheme: string, token: string) =>
    /\d/.test(token) ? `${scheme} ${MASK}` : match,
  )
}

// ---------------------------------------------------------------------------
// 3. Paths

/** `file://` URLs; the path stops at `:line:col`, except for a Windows drive colon. */
const FILE_URL_RE = /(?<!\w)file:\/\/(?:localhost)?\/(?:[A-Za-z]:\/)?[^\s'"`<>()[\]{}|;,*?:]*/
/**
 * Windows drive paths, with single or doubled (repr) backslashes or forward
 * slashes. A user folder may contain spaces (`C:\Users\Bob Smith\`), so
 * after `Users` one segment may run through spaces up to the next separator.
 */
const WINDOWS_PATH_RE = /(?<![\w\\/.:-])[A-Za-z]:[\\/]+(?:[Uu][Ss][Ee][Rr][Ss][\\/]+[^\\/\n'"`<>:|?*]+(?=[\\/]))?[^\s'"`<>()[\]{}|;,*?:]+/
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
const TOP_PATH_RE = new RegExp(`${PYTHON_FRAME_RE.source}|${PAREN_RE.source}|(${GENERIC_PATH_SOURCE})`, 'g')
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
const HOME_WINDOWS_RE = /(?<![\w\\/])[A-Za-z]:(?:\\+|\/)Users(?:\\+|\/)[^\\/\n'"`<>:|?*]+((?:\\+|\/)?)/gi

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
 * code (rules 1-3 on {@link sanitizeTraceback}), or -1. These win over project
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

/** Index of the first segment to keep for other code (rules 5-7 on {@link sanitizeTraceback}). */
function projectStart(names: readonly string[], windows: boolean): number {
  const folded = windows ? names.map((name) => name.toLowerCase()) : names
  const count = folded.length
  for (let i = 0; i < count - 1; i++) {
    if (MARKER_DIRS.has(folded[i] ?? '') && (windows ? i > 0 : !isSystemPrefix(folded, i))) return i
  }
  const home = homeEnd(names, windows)
  return home === -1 ? 0 : home
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
  return text.replace(HOME_POSIX_RE, unhome).replace(HOME_ROOT_RE, unhome).replace(HOME_WINDOWS_RE, unhome)
}

function relativizePaths(text: string, roots: readonly string[]): string {
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

// ---------------------------------------------------------------------------
// 4. Size cap

/**
 * Share of the budget kept from the head. The tail gets the rest: a Python
 * traceback ends with the innermost frames and the exception, which matter
 * most; the head still shows the outer frames (and a Node error's message).
 */
const HEAD_SHARE = 0.25

function markerFor(removedBytes: number): string {
  return `\n... [${removedBytes} bytes removed] ...\n`
}

/** UTF-8 size of the code point ending or starting at a position, and its length in code units. */
function utf8Size(code: number, pairs: boolean): { bytes: number, units: number } {
  if (code < 0x80) return { bytes: 1, units: 1 }
  if (code < 0x800) return { bytes: 2, units: 1 }
  return pairs ? { bytes: 4, units: 2 } : { bytes: 3, units: 1 }
}

/** Largest index such that `text.slice(0, index)` fits in `budget` bytes and ends on a code point. */
function headCut(text: string, budget: number): number {
  let bytes = 0
  let i = 0
  while (i < text.length) {
    const code = text.charCodeAt(i)
    const size = utf8Size(code, isHighSurrogate(code) && isLowSurrogate(text.charCodeAt(i + 1)))
    if (bytes + size.bytes > budget) break
    bytes += size.bytes
    i += size.units
  }
  return i
}

/** Smallest index such that `text.slice(index)` fits in `budget` bytes and starts on a code point. */
function tailCut(text: string, budget: number): number {
  let bytes = 0
  let i = text.length
  while (i > 0) {
    const code = text.charCodeAt(i - 1)
    const size = utf8Size(code, isLowSurrogate(code) && i >= 2 && isHighSurrogate(text.charCodeAt(i - 2)))
    if (bytes + size.bytes > budget) break
    bytes += size.bytes
    i -= size.units
  }
  return i
}

function isBlank(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n'
}

/**
 * Keeps head and tail with a marker between them. Cuts move to a line break
 * (or failing that a blank) when one is near, so that neither side starts or
 * ends with a fragment of a path or a mask that a second pass would rewrite.
 */
function capBytes(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8')
  if (total <= maxBytes) return text
  // The marker is reserved at its largest: it never reports more than `total` bytes removed.
  const reserve = Buffer.byteLength(markerFor(total), 'utf8')
  if (maxBytes < reserve * 2) return text.slice(0, headCut(text, maxBytes))

  const budget = maxBytes - reserve
  const headBudget = Math.floor(budget * HEAD_SHARE)
  let head = headCut(text, headBudget)
  let tail = tailCut(text, budget - headBudget)

  const headFloor = Math.floor(head / 2)
  const newlineBeforeCut = text.lastIndexOf('\n', head)
  if (newlineBeforeCut >= headFloor) {
    head = newlineBeforeCut
  } else {
    let k = head
    while (k > headFloor && !isBlank(text[k])) k--
    if (k > headFloor) head = k
  }
  const tailCeiling = tail + Math.floor((text.length - tail) / 2)
  const newlineAfterCut = text.indexOf('\n', Math.max(tail - 1, 0))
  if (newlineAfterCut !== -1 && newlineAfterCut + 1 <= tailCeiling) {
    tail = newlineAfterCut + 1
  } else {
    let k = tail
    while (k < tailCeiling && !isBlank(text[k - 1])) k++
    if (k < tailCeiling) tail = k
  }

  const headText = text.slice(0, head)
  const tailText = text.slice(tail)
  const removed = total - Buffer.byteLength(headText, 'utf8') - Buffer.byteLength(tailText, 'utf8')
  return headText + markerFor(removed) + tailText
}
