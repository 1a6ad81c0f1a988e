/**
 * Static token file for standalone use: JSON or YAML
 * `{"tokens": [{"token", "user_id", "project_id", "roles": [...]}]}`. Tokens are kept only as
 * SHA-256 digests in memory, so lookups do not compare secret strings character by character.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
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

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

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
    for (const field of ['token', 'user_id', 'project_id'] as const) {
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
    if (seen.has(token)) throw invalid(where, 'duplicate token')
    seen.add(token)
    return {
      token,
      user_id: e.user_id as string,
      project_id: e.project_id as string,
      roles: e.roles as Role[],
    }
  })
}

/** Authenticator over a fixed list of tokens. */
export class StaticTokenAuthenticator implements Authenticator {
  readonly #byDigest: Map<string, Principal>

  constructor(entries: readonly TokenEntry[]) {
    this.#byDigest = new Map(
      entries.map((e) => [
        digest(e.token),
        { userId: e.user_id, projectId: e.project_id, roles: expandRoles(e.roles) },
      ]),
    )
  }

  authenticate(token: string): Promise<Principal | undefined> {
    return Promise.resolve(this.#byDigest.get(digest(token)))
  }
}

/** Reads and validates a token file (JSON or YAML, chosen by content). */
export async function loadTokenFile(path: string): Promise<StaticTokenAuthenticator> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new AppError(
      'invalid_input',
      `token file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  let content: unknown
  try {
    content = YAML.parse(text)
  } catch {
    throw new AppError('invalid_input', `token file ${path} is neither JSON nor YAML`)
  }
  return new StaticTokenAuthenticator(parseTokenEntries(content))
}
