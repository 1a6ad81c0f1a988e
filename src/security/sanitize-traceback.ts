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
 * 1. Newlines are normalized and control and bidi characters and ANSI escape
 *    sequences are removed; then every default-ignorable code point
 *    (`\p{Default_Ignorable_Code_Point}`: zero-width characters, soft hyphen,
 *    variation selectors, tags, Hangul fillers, …) is removed and the text is
 *    folded to NFKC (fullwidth `ｐａｓｓｗｏｒｄ` → `password`), so that nothing
 *    invisible or look-alike can split a key name or hide a secret from the
 *    masking rules. The stored text keeps the folded form, so a reader sees
 *    what the rules saw. NFKC does not fold cross-script look-alikes
 *    (Cyrillic `р` for Latin `p`); those are not handled.
 * 2. Secrets are masked ({@link maskSecrets}), on the folded text.
 * 3. Absolute paths become relative ones (rules on {@link sanitizeTraceback}).
 * 4. The result is capped at {@link MAX_TRACEBACK_BYTES}; capping last means a
 *    cut can never leave half a secret that the masking rules no longer see.
 *
 * An event's `details` go through the same pipeline ({@link sanitizeDetails}):
 * only the cap differs, the head cut to {@link MAX_DETAILS_BYTES} with no marker,
 * as Nova's column holds 255 characters and a short message has no tail to keep.
 * The pipeline is repeated until its output no longer changes (see
 * {@link sanitizeTraceback}), which makes it idempotent.
 *
 * Every regular expression in ./sanitize/ either starts at an anchor that
 * cannot occur inside its own repetition (a look-behind on the previous
 * character) or scans a character class that excludes its terminator, and
 * every hand-written scan consumes what it reads or looks ahead a bounded
 * distance (a spaced URL password: 128 characters; a list value: 16 KiB; a
 * next-line YAML value: one line, once per line), so the work stays linear in
 * the input: a hostile traceback cannot stall the recorder. The 1 MiB rows in
 * the test's "pathological input" table hold each rule to that.
 *
 * @module
 */
import { stripControlChars } from './sanitize/control-chars.js'
import { foldInvisibleChars } from './sanitize/invisible-chars.js'
import { normalizeRoots, relativizePaths } from './sanitize/path-relativizing.js'
import { MASK, maskSecrets } from './sanitize/secret-masking.js'
import { capBytes, capHead, MAX_TRACEBACK_BYTES, resolveMaxBytes } from './sanitize/size-cap.js'
// One definition of the details cap: the domain's, which the store's column follows.
import { MAX_DETAILS_BYTES } from '../domain/details.js'

// Callers import the public names from this module; the stages behind it live in ./sanitize/ and
// are free to move between files there.
export { MASK, MAX_DETAILS_BYTES, MAX_TRACEBACK_BYTES, maskSecrets }

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
 * 6. a repository checked out under its own name keeps its top package: the
 *    last directory followed by a same-named one starts the path
 *    (`/opt/stack/nova/nova/compute/manager.py` → `nova/compute/manager.py`);
 * 7. otherwise a home directory (`/home/<user>/`, `/Users/<user>/`, `/root/`,
 *    `C:\Users\<user>\`) and everything before it is removed, and of the rest
 *    only the file name stays, with its parent directory when that is a
 *    lower-case identifier (a package or system directory: `compute`, `etc`)
 *    and not a name for a person, customer, release or workspace (`home`,
 *    `customers`, `releases`, `deploy`, `workspace`, `jenkins`, `tmp`, …):
 *    `/srv/deploy/releases/20261201/customer-acme/agent.py` → `agent.py`,
 *    `/etc/nova/nova.conf` → `nova/nova.conf`. Limit: a customer or user
 *    directory named like an identifier (`/data/acme/agent.py`) cannot be
 *    told from a package and stays as the parent (`acme/agent.py`); pass
 *    `projectRoots` to do better. An HTTP request path in a log line is
 *    reduced the same way (`POST /v2.1/servers` → `POST servers`).
 *
 * The result never starts with a separator, keeps the original separator
 * style (`src\a.ts` on Windows), and keeps `:line:col` suffixes. Paths that
 * are exactly a home directory become `~`; `node:internal/...` frames and
 * URLs (`https://host/path`), `~/x` and `$HOME/x` are left alone. A final pass
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
  return untilStable(text, (input) => capBytes(sanitizeOnce(input, roots), maxBytes))
}

/**
 * Returns the sanitized `details` of an event: the pipeline of {@link sanitizeTraceback}
 * (control characters and escape sequences removed, invisible characters removed and NFKC
 * folded, secrets masked, paths made relative and home directories removed), then the head cut
 * to `maxBytes` on a code point, without a marker. Pure and idempotent.
 *
 * @example
 * sanitizeDetails('Cannot read /home/bob/x.iso\u0007 password=hunter2') // 'Cannot read x.iso password=***'
 *
 * @param text - Raw details, any size.
 * @param options - Project roots and size cap (default {@link MAX_DETAILS_BYTES}).
 * @returns The sanitized details, at most `maxBytes` UTF-8 bytes.
 * @throws RangeError when `maxBytes` is negative or NaN.
 */
export function sanitizeDetails(text: string, options: SanitizeOptions = {}): string {
  const maxBytes = resolveMaxBytes(options.maxBytes ?? MAX_DETAILS_BYTES)
  const roots = normalizeRoots(options.projectRoots ?? [])
  return untilStable(text, (input) => capHead(sanitizeOnce(input, roots), maxBytes))
}

/** Runs one pipeline pass until its output no longer changes (at most {@link MAX_PASSES}). */
function untilStable(text: string, pass: (input: string) => string): string {
  let out = pass(text)
  for (let n = 1; n < MAX_PASSES; n++) {
    const again = pass(out)
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

/**
 * Stage 1 of the pipeline on its own: control and bidi characters and escape sequences removed,
 * every default-ignorable code point removed and compatibility forms folded (NFKC). Every matcher
 * of secrets works on this form, so that nothing invisible or look-alike splits or disguises a key:
 * the redacting logger folds its keys and text with it too (one pipeline, not a copy of it).
 *
 * @example
 * foldForMatching('pass\u200Bword=x') // 'password=x'
 */
export function foldForMatching(text: string): string {
  return foldInvisibleChars(stripControlChars(text))
}

/** Stages 1-3 of the pipeline; the caller applies its own cap (stage 4). */
function sanitizeOnce(text: string, roots: readonly string[]): string {
  const clean = foldForMatching(text)
  const masked = maskSecrets(clean)
  return relativizePaths(masked, roots)
}

/**
 * A record's stored failure texts, sanitized as every write's are, for the bulk imports (a Nova
 * cell, an ActionTrail export): null stays null, and an empty text is its own sanitized form.
 */
export function sanitizedFailure(
  traceback: string | null,
  details: string | null,
): { traceback: string | null; details: string | null } {
  return {
    traceback: traceback === null || traceback === '' ? traceback : sanitizeTraceback(traceback),
    details: details === null || details === '' ? details : sanitizeDetails(details),
  }
}
