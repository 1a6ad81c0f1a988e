/**
 * The parsed form of an oslo.policy check string. Leaves are checks, inner nodes the boolean
 * operators; `rule:` references stay names and are resolved against a rule set when evaluated.
 */

/** A piece of a check's match: literal text, or a `%(key)s` substitution from the target. */
export type MatchPart = { literal: string } | { targetKey: string }

/**
 * The left side of a generic check: a literal (oslo's `ast.literal_eval` of the kind, e.g.
 * `True`, `'member'`, `1`), compared with the match as text, or a dotted path into the
 * credentials (`token.project.domain.id`).
 */
export type GenericKind = { literal: string } | { path: readonly string[] }

/** One node of a check string's tree. */
export type PolicyNode =
  | { type: 'always' }
  | { type: 'never' }
  | { type: 'and'; items: readonly PolicyNode[] }
  | { type: 'or'; items: readonly PolicyNode[] }
  | { type: 'not'; item: PolicyNode }
  | { type: 'rule'; name: string }
  | { type: 'role'; match: readonly MatchPart[] }
  | { type: 'generic'; kind: GenericKind; match: readonly MatchPart[] }

/** The `rule:` names a tree refers to, each once. */
export function referencedRules(node: PolicyNode, out: Set<string> = new Set()): Set<string> {
  switch (node.type) {
    case 'rule':
      out.add(node.name)
      break
    case 'and':
    case 'or':
      for (const item of node.items) referencedRules(item, out)
      break
    case 'not':
      referencedRules(node.item, out)
      break
    default:
      break
  }
  return out
}
