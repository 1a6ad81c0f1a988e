/**
 * The leak scan (issue 9, DESIGN.md "no secret and no raw user/project/request id reaches a log
 * line, at any log level"): what the API suites' captured logs, and every answer they receive, must
 * never contain. buildHarness runs its logger at trace level and fails the test at its end when
 * findLeaks finds anything; the inject wrapper of response-check.ts fails it when an answer
 * carries a stack trace (stackTraceIn). test/security/leak-scan.test.ts proves both can fail.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Repository root: any path under it in a log line gives the deployment layout away. */
const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')

/** Something a log line must not contain, and why. */
interface Rule {
  label: string
  pattern: RegExp
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// Instance uuids are not on this list: DESIGN.md forbids user, project and request ids and secrets
// in logs; an instance uuid is the object an operator searches the logs for.
const PATTERN_RULES: Rule[] = [
  // Keystone user and project ids (32 hex digits); the logger writes them as `id:<tag>`.
  { label: 'a Keystone-style user or project id', pattern: /\b[0-9a-f]{32}\b/i },
  // Nova's request ids, generated or sent (`req-<uuid>`, and the suites' `req-unknown`, `req-1`).
  { label: 'a request id', pattern: /\breq-[0-9a-z]/i },
  // Every test token is named `tok-…` (TOKENS, and the forged ones the suites send).
  { label: 'a token', pattern: /\btok-[0-9a-z]/i },
  {
    label: 'an absolute path',
    pattern: new RegExp(
      `${escaped(ROOT)}|file:///|(?<![\\w.:/-])/(?:home|root|srv|opt|work|Users|var/lib|tmp)/`,
    ),
  },
]

/**
 * Every forbidden thing in `text`: each of `literals` (ids, tokens and passwords the tests use),
 * and what PATTERN_RULES describe. Each finding names the rule and shows the text around it.
 */
export function findLeaks(text: string, literals: readonly string[]): string[] {
  const found: string[] = []
  const around = (index: number, length: number): string =>
    JSON.stringify(text.slice(Math.max(0, index - 60), index + length + 60))
  for (const literal of new Set(literals)) {
    const at = literal.length > 0 ? text.indexOf(literal) : -1
    if (at >= 0) found.push(`${JSON.stringify(literal)} in ${around(at, literal.length)}`)
  }
  for (const rule of PATTERN_RULES) {
    const m = rule.pattern.exec(text)
    if (m) found.push(`${rule.label} in ${around(m.index, m[0].length)}`)
  }
  return found
}

/** Passwords the suites write (inside tracebacks and details, which are masked before storage). */
export const TEST_PASSWORDS: readonly string[] = ['hunter2', 's3cr3tpw']

// A stack frame of Node (`at fn (/abs/file.js:1:2)`, `at node:internal/…`), or Python's header.
const STACK = [
  /^\s*at (?:.+ \()?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s)]*:\d+:\d+/m,
  /Traceback \(most recent call last\)/,
]

// Stored event fields, returned to admins by design (already sanitized when written): a traceback
// a test wrote is not a stack trace of the server.
const STORED_TEXT = new Set(['traceback', 'details'])

/** The string values of a JSON value, but stored fields; `stack` keys are reported as found. */
function textsOf(value: unknown, out: { texts: string[]; stackKey: boolean }, depth = 0): void {
  if (depth > 32) return
  if (typeof value === 'string') out.texts.push(value)
  else if (Array.isArray(value)) value.forEach((v) => textsOf(v, out, depth + 1))
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'stack') out.stackKey = true
      if (!STORED_TEXT.has(k)) textsOf(v, out, depth + 1)
    }
  }
}

/** The values of an NDJSON body, or undefined when a line is not JSON. */
function ndjsonValues(body: string): unknown[] | undefined {
  try {
    return body
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown)
  } catch {
    return undefined
  }
}

/**
 * The first line of a server stack trace in an HTTP answer body, if any. JSON and NDJSON bodies
 * are read value by value, skipping stored `traceback` and `details` fields; other bodies as text.
 */
export function stackTraceIn(body: string): string | undefined {
  const found = { texts: [] as string[], stackKey: false }
  try {
    textsOf(JSON.parse(body), found)
  } catch {
    // NDJSON (GET /v1/export): each line a JSON value, read as JSON bodies are.
    const values = ndjsonValues(body)
    if (values) for (const value of values) textsOf(value, found)
    else found.texts.push(body)
  }
  if (found.stackKey) return 'a "stack" key'
  for (const text of found.texts) {
    for (const pattern of STACK) {
      const m = pattern.exec(text)
      if (m) return m[0].trim()
    }
    if (text.includes(ROOT)) return `the repository path in ${JSON.stringify(text.slice(0, 200))}`
  }
  return undefined
}
