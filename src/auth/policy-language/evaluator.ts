/**
 * Evaluates a tree against the caller's credentials and the target of the request, with
 * oslo.policy's meanings: `role:` compares names ignoring letter case; a generic check compares the
 * text of a credential (found by a dotted path, any element of a list matching) or of a literal
 * with the substituted match; a `%(key)s` missing from the target makes its check false; an unknown
 * rule is false (fail closed).
 */
import type { MatchPart, PolicyNode } from './ast.js'

/** A credential value: what a token tells about its caller. */
export type CredentialValue =
  | string
  | number
  | boolean
  | null
  | readonly CredentialValue[]
  | { readonly [key: string]: CredentialValue }

/** The caller, as oslo's `creds` dict: `roles`, `user_id`, `project_id`, `is_admin`, … */
export type Credentials = { readonly [key: string]: CredentialValue }

/** The object acted on, as oslo's `target` dict: `project_id`, `user_id`, … */
export type Target = { readonly [key: string]: string | number | boolean | null }

/** What an evaluation needs besides the tree. */
export interface EvaluationContext {
  credentials: Credentials
  target: Target
  /** Resolves `rule:NAME`; undefined for a rule that does not exist. */
  rule: (name: string) => PolicyNode | undefined
}

// Python's str() of a scalar, which is what oslo compares.
function pythonText(value: CredentialValue): string | undefined {
  if (value === null) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'string' || typeof value === 'number') return String(value)
  return undefined
}

function substitute(match: readonly MatchPart[], target: Target): string | undefined {
  let out = ''
  for (const part of match) {
    if ('literal' in part) {
      out += part.literal
      continue
    }
    if (!Object.hasOwn(target, part.targetKey)) return undefined
    const value = target[part.targetKey]
    out += pythonText(value ?? null) ?? ''
  }
  return out
}

function findInCredentials(
  value: CredentialValue | undefined,
  path: readonly string[],
  match: string,
): boolean {
  if (value === undefined) return false
  if (path.length === 0) return pythonText(value) === match
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const record = value as { readonly [key: string]: CredentialValue }
  const [key, ...rest] = path as [string, ...string[]]
  if (!Object.hasOwn(record, key)) return false
  const next = record[key]
  if (Array.isArray(next)) {
    return (next as readonly CredentialValue[]).some((item) => findInCredentials(item, rest, match))
  }
  return findInCredentials(next, rest, match)
}

function roles(credentials: Credentials): string[] {
  const value = credentials.roles
  if (!Array.isArray(value)) return []
  return (value as readonly CredentialValue[])
    .filter((r): r is string => typeof r === 'string')
    .map((r) => r.toLowerCase())
}

/** Whether the tree allows; `active` holds the rules being evaluated (a cycle denies). */
export function evaluate(
  node: PolicyNode,
  ctx: EvaluationContext,
  active: ReadonlySet<string> = new Set(),
): boolean {
  switch (node.type) {
    case 'always':
      return true
    case 'never':
      return false
    case 'and':
      return node.items.every((item) => evaluate(item, ctx, active))
    case 'or':
      return node.items.some((item) => evaluate(item, ctx, active))
    case 'not':
      return !evaluate(node.item, ctx, active)
    case 'rule': {
      const tree = ctx.rule(node.name)
      // Rule sets refuse cycles when they load; this only keeps a hand-built context finite.
      if (!tree || active.has(node.name)) return false
      return evaluate(tree, ctx, new Set([...active, node.name]))
    }
    case 'role': {
      const wanted = substitute(node.match, ctx.target)
      return wanted !== undefined && roles(ctx.credentials).includes(wanted.toLowerCase())
    }
    case 'generic': {
      const match = substitute(node.match, ctx.target)
      if (match === undefined) return false
      if ('literal' in node.kind) return node.kind.literal === match
      return findInCredentials(ctx.credentials, node.kind.path, match)
    }
  }
}
