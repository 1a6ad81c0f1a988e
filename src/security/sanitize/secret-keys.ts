/**
 * Classification of key names: which keys in a key/value pair name a secret, and which headers
 * carry one up to the end of the line. The one definition of a secret key: the traceback
 * sanitizer and the redacting logger both use it.
 */

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

/** Last words that are sensitive only as a whole word (`pass` but not `bypass`, `pw` but not `pwr`). */
const SENSITIVE_WORDS = new Set(['pass', 'pw', 'signature', 'sig'])

/** Two adjacent words that together are sensitive anywhere in a key (`api_key`, `SECRET_KEY_BASE`). */
const SENSITIVE_PAIRS = new Set([
  'apikey',
  'accesskey',
  'secretkey',
  'privatekey',
  'sessionid',
  'authkey',
  'encryptionkey',
  // Azure storage connection strings: `AccountKey=…`, `SharedAccessKey=…` (via accesskey).
  'accountkey',
  // Keystone's fernet and credential keys, often logged as a list: `fernet_keys=[…]`.
  'fernetkey',
  'fernetkeys',
  // The HMAC key of log id tags (ACTIONTRAIL_LOG_KEY, logKey): with it, tags can be reversed by guessing.
  'logkey',
])

/** Headers whose value is free text up to the end of the line (`Bearer x`, `a=b; c=d`). */
export const LINE_VALUE_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
])

/** How a key was written, which tells a key from an exception class name. */
export interface KeyContext {
  /** Whether the key had quotes on both sides: then it is data, never a class name. */
  quoted: boolean
  /** The separator after the key, trimmed: `=`, `:`, `=>`, `:=`, or `''` for a CLI flag. */
  separator: string
}

function keyWords(segment: string): string[] {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter((word) => word !== '')
    .map((word) => word.toLowerCase())
}

/** The key without a leading `--` or `$` and without everything up to its last `.`. */
function lastSegment(rawKey: string): string {
  const key = rawKey.replace(/^[-$]+/, '')
  return key.slice(key.lastIndexOf('.') + 1)
}

function wordsAreSecret(words: readonly string[]): boolean {
  const last = words.at(-1)
  if (last === undefined) return false
  if (SENSITIVE_WORDS.has(last)) return true
  if (SENSITIVE_SUFFIXES.some((suffix) => last.endsWith(suffix))) return true
  // A sensitive pair names the secret wherever it sits: SECRET_KEY_BASE, private_key_pem.
  return words.some((word, i) => i > 0 && SENSITIVE_PAIRS.has((words[i - 1] ?? '') + word))
}

/**
 * Whether a key name, taken as data, names a secret: an object key, a header name, an environment
 * variable. A leading `--` or `$` and everything up to the last `.` are ignored; the rest is split
 * into words at `_`, `-` and camelCase. The key is secret when its last word is one of the whole
 * words or ends in one of the suffixes above, or when two adjacent words form a sensitive pair.
 *
 * @example
 * isSecretKey('OS_PASSWORD') // true
 * isSecretKey('X-Auth-Token') // true
 * isSecretKey('apiKey') // true
 * isSecretKey('token_count') // false
 *
 * @param name - The key, e.g. `db_password`, `X-Auth-Token`, `request.headers.cookie`.
 * @returns True when the value under the key must not be shown.
 */
export function isSecretKey(name: string): boolean {
  return wordsAreSecret(keyWords(lastSegment(name)))
}

/**
 * Whether a key found in free text names a secret: {@link isSecretKey}, except that a PascalCase
 * key before an unquoted `:` is an exception class name, not a key.
 *
 * @param rawKey - The key as matched, e.g. `--os-password`, `OS_PASSWORD`, `request.headers.X-Auth-Token`.
 * @param context - How the key was written.
 * @returns True when the value after the key must be masked.
 */
export function isSensitiveKey(rawKey: string, context: KeyContext): boolean {
  const segment = lastSegment(rawKey)
  // `cryptography.fernet.InvalidToken: Signature did not match digest.` is an
  // exception class and its message, the commonest shape in a traceback.
  if (
    !context.quoted &&
    context.separator === ':' &&
    /^[A-Z][A-Za-z0-9]*[a-z0-9][A-Z]/.test(segment)
  ) {
    if (!/[_-]/.test(segment)) return false
  }
  return wordsAreSecret(keyWords(segment))
}
