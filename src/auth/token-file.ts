/**
 * Static token file for standalone use: JSON or YAML
 * `{"tokens": [{"token", "user_id", "project_id", "roles": [...]}]}`. Tokens are kept only as
 * SHA-256 digests in memory, so lookups do not compare secret strings character by character.
 * A token is 1–255 printable ASCII characters (0x21–0x7e): what every client can send in an
 * `X-Auth-Token` header byte for byte. An entry may hold `sha256:<64 hex digits>` (the digest of
 * the token, as `actiontrail token hash` prints it) instead of the token, so the file itself holds
 * no usable secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { open } from 'node:fs/promises'
import YAML from 'yaml'
import { AppError } from '../domain/errors.js'
import { isPrintable } from '../domain/validation.js'
import { expandRoles, ROLES, type Authenticator, type Principal, type Role } from './principal.js'

/** One entry of a token file. */
export interface TokenEntry {
  token: string
  user_id: string
  project_id: string
  roles: Role[]
}

/** The SHA-256 digest of a token, in hex: what a `sha256:` entry of a token file holds. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A token file entry that holds a digest instead of a token. */
const HASHED_TOKEN = /^sha256:([0-9a-fA-F]{64})$/

/** The digest an entry stands for: its own for a `sha256:` entry, else the token's. */
export function entryDigest(token: string): string {
  const hashed = HASHED_TOKEN.exec(token)
  return hashed?.[1] ? hashed[1].toLowerCase() : tokenDigest(token)
}

// HTTP clients send header values as bytes; Node reads them as Latin-1, so a non-ASCII token would
// only match clients that happen to encode it as Latin-1, and a space or tab around a token is
// stripped from the header by every client and parser, so such a token could never match.
const TOKEN_CHARS = /^[\x21-\x7e]{1,255}$/

function invalid(where: string, why: string): AppError {
  return new AppError('invalid_input', `token file: ${where}: ${why}`)
}

/** Validates the parsed content of a token file. Error messages never include a token. */
export function parseTokenEntries(content: unknown): TokenEntry[] {
  if (
    content === null ||
    typeof content !== 'object' ||
    !Array.isArray((content as { tokens?: unknown }).tokens)
  ) {
    throw invalid('root', 'expected an object with a "tokens" array')
  }
  const entries = (content as { tokens: unknown[] }).tokens
  const seen = new Set<string>()
  return entries.map((raw, i) => {
    const where = `tokens[${i}]`
    if (raw === null || typeof raw !== 'object') throw invalid(where, 'expected an object')
    const e = raw as Record<string, unknown>
    if (typeof e.token === 'string' && /^\s|\s$/.test(e.token)) {
      throw invalid(where, 'token has leading or trailing whitespace, which no client can send')
    }
    if (typeof e.token !== 'string' || !TOKEN_CHARS.test(e.token)) {
      throw invalid(where, 'token must be printable ASCII (0x21-0x7e), 1 to 255 characters')
    }
    for (const field of ['user_id', 'project_id'] as const) {
      const v = e[field]
      if (typeof v !== 'string' || v.length === 0 || v.length > 255 || !isPrintable(v)) {
        throw invalid(
          where,
          `${field} must be a non-empty printable string of at most 255 characters`,
        )
      }
    }
    if (!Array.isArray(e.roles) || e.roles.some((r) => !ROLES.includes(r as Role))) {
      throw invalid(where, `roles must be a list of ${ROLES.join(', ')}`)
    }
    const token = e.token as string
    // A token and its `sha256:` digest are the same credential: duplicates by digest.
    const key = entryDigest(token)
    if (seen.has(key)) throw invalid(where, 'duplicate token')
    seen.add(key)
    return {
      token,
      user_id: e.user_id as string,
      project_id: e.project_id as string,
      roles: e.roles as Role[],
    }
  })
}

interface KnownToken {
  digest: Buffer
  principal: Principal
}

/**
 * Authenticator over a fixed list of tokens. The presented token is hashed and looked up by its
 * digest, so the time taken does not depend on how much of a secret it matches; the found digest
 * is then compared with `timingSafeEqual` as well.
 */
export class StaticTokenAuthenticator implements Authenticator {
  readonly #byDigest: Map<string, KnownToken>

  constructor(entries: readonly TokenEntry[]) {
    this.#byDigest = new Map(
      entries.map((e) => {
        const hex = entryDigest(e.token)
        const principal = {
          userId: e.user_id,
          projectId: e.project_id,
          roles: expandRoles(e.roles),
        }
        return [hex, { digest: Buffer.from(hex, 'hex'), principal }]
      }),
    )
  }

  /** Number of tokens known. */
  get size(): number {
    return this.#byDigest.size
  }

  authenticate(token: string): Promise<Principal | undefined> {
    const hex = tokenDigest(token)
    const known = this.#byDigest.get(hex)
    const match = known !== undefined && timingSafeEqual(known.digest, Buffer.from(hex, 'hex'))
    return Promise.resolve(match ? known.principal : undefined)
  }
}

/** Options of loadTokenFile. */
export interface TokenFileOptions {
  /** Refuse a file that every user of the host can read, instead of warning about it. */
  strict?: boolean
  /** Where warnings go (the server passes its logger); default `process.emitWarning`. */
  warn?: (message: string) => void
}

/** Reads and validates a token file (JSON or YAML, chosen by content). */
export async function loadTokenFile(
  path: string,
  { strict = false, warn = (m) => process.emitWarning(m) }: TokenFileOptions = {},
): Promise<StaticTokenAuthenticator> {
  let text: string
  let mode: number
  try {
    // Mode and content from one open file, so the checked file is the read one.
    const file = await open(path, 'r')
    try {
      mode = (await file.stat()).mode
      text = await file.readFile('utf8')
    } finally {
      await file.close()
    }
  } catch (err) {
    throw new AppError(
      'invalid_input',
      `token file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  // Windows has no "others" permission bits; Node reports a fixed mode there.
  if (process.platform !== 'win32' && (mode & 0o004) !== 0) {
    const message =
      `token file ${path} is readable by every user of this host (mode ` +
      `${(mode & 0o777).toString(8)}); restrict it with chmod 600`
    if (strict) throw new AppError('invalid_input', message)
    warn(message)
  }
  let content: unknown
  try {
    content = YAML.parse(text)
  } catch {
    throw new AppError('invalid_input', `token file ${path} is neither JSON nor YAML`)
  }
  return new StaticTokenAuthenticator(parseTokenEntries(content))
}
