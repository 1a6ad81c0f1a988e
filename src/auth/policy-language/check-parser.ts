/**
 * One check word → a leaf of the tree, with oslo.policy's meanings: `@` always, `!` never,
 * `rule:NAME`, `role:NAME`, and every other `kind:match` a generic check. `http:`/`https:` checks
 * (a remote call per decision) are refused rather than silently denied.
 */
import type { GenericKind, MatchPart, PolicyNode } from './ast.js'
import { PolicySyntaxError } from './policy-syntax-error.js'

/**
 * Parses a match such as `%(project_id)s` or `admin`: `%(key)s` takes `key` from the target,
 * `%%` is a percent sign, and any other `%` is refused (oslo would fail at request time).
 */
export function parseMatch(text: string): MatchPart[] {
  const parts: MatchPart[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c !== '%') {
      literal += c
      i++
      continue
    }
    if (text[i + 1] === '%') {
      literal += '%'
      i += 2
      continue
    }
    const sub = /^%\(([^()]+)\)s/.exec(text.slice(i))
    if (!sub?.[1]) {
      throw new PolicySyntaxError(`"${text}": a % must start %(name)s or be doubled (%%)`)
    }
    if (literal !== '') parts.push({ literal })
    literal = ''
    parts.push({ targetKey: sub[1] })
    i += sub[0].length
  }
  if (literal !== '') parts.push({ literal })
  return parts
}

// oslo tries `ast.literal_eval` on the kind: strings, booleans, None and integers compare as
// Python prints them; anything else is a path into the credentials.
function parseKind(kind: string): GenericKind {
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(kind)
  if (quoted) return { literal: quoted[1] ?? quoted[2] ?? '' }
  if (kind === 'True' || kind === 'False' || kind === 'None') return { literal: kind }
  if (/^-?(0|[1-9]\d*)$/.test(kind)) return { literal: BigInt(kind).toString() }
  const path = kind.split('.')
  if (path.some((segment) => segment === '')) {
    throw new PolicySyntaxError(`"${kind}" is not a credential name (empty segment)`)
  }
  return { path }
}

/** Parses one check word (no whitespace, parentheses already split off). */
export function parseCheck(word: string): PolicyNode {
  if (word === '@') return { type: 'always' }
  if (word === '!') return { type: 'never' }
  const colon = word.indexOf(':')
  if (colon <= 0) {
    throw new PolicySyntaxError(`"${word}" is not a check (expected kind:match, @ or !)`)
  }
  const kind = word.slice(0, colon)
  const match = word.slice(colon + 1)
  switch (kind) {
    case 'rule':
      if (match === '') throw new PolicySyntaxError('"rule:" needs a rule name')
      return { type: 'rule', name: match }
    case 'role':
      if (match === '') throw new PolicySyntaxError('"role:" needs a role name')
      return { type: 'role', match: parseMatch(match) }
    case 'http':
    case 'https':
      throw new PolicySyntaxError(`"${word}": http and https checks are not supported`)
    default:
      return { type: 'generic', kind: parseKind(kind), match: parseMatch(match) }
  }
}
