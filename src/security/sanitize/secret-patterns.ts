/**
 * Masking of well-known token shapes (cloud keys, Keystone and JWT tokens, bearer tokens), which
 * need no key in front of them to be recognized.
 */
import { MASK } from './mask.js'

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

/**
 * Replaces every well-known token (AWS access key ids, Keystone fernet tokens, JWTs, GitHub and
 * Slack tokens) with {@link MASK}, and the token of `Bearer <token>` when it holds a digit.
 *
 * @param text - Any text.
 * @returns The text with every recognized token masked.
 */
export function maskKnownTokens(text: string): string {
  let out = text
  for (const re of KNOWN_TOKEN_RES) out = out.replace(re, MASK)
  return out.replace(BEARER_RE, (match: string, scheme: string, token: string) =>
    /\d/.test(token) ? `${scheme} ${MASK}` : match,
  )
}
