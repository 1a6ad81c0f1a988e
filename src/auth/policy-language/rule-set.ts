/**
 * A named set of parsed rules, checked as a whole when it is built: every check string parses,
 * every `rule:` reference names a rule of the set, and no rule refers back to itself through
 * others. So a request can never meet a parse error, a dangling reference or an endless loop.
 */
import { referencedRules, type PolicyNode } from './ast.js'
import { evaluate, type Credentials, type Target } from './evaluator.js'
import { parsePolicy } from './parser.js'
import { PolicySyntaxError } from './policy-syntax-error.js'

/** One rule as written: its name, check string, and where it was written (a file's line). */
export interface RuleSource {
  name: string
  check: string
  /** 1-based line in the policy file, when the rule came from one. */
  line?: number
}

/** A rule that cannot be used, with the rule's name, its line when known, and the reason. */
export class PolicyRuleError extends Error {
  readonly rule: string
  readonly line: number | undefined
  readonly reason: string

  constructor(rule: string, line: number | undefined, reason: string) {
    super(`${line === undefined ? '' : `line ${line}: `}rule "${rule}": ${reason}`)
    this.name = 'PolicyRuleError'
    this.rule = rule
    this.line = line
    this.reason = reason
  }
}

/** Parsed, cross-checked rules; `enforce` evaluates one by name. */
export class RuleSet {
  readonly #rules: ReadonlyMap<string, PolicyNode>

  private constructor(rules: ReadonlyMap<string, PolicyNode>) {
    this.#rules = rules
  }

  /** Parses and checks rules (later sources with the same name replace earlier ones). */
  static build(sources: readonly RuleSource[]): RuleSet {
    const latest = new Map<string, RuleSource>()
    for (const source of sources) latest.set(source.name, source)
    const trees = new Map<string, PolicyNode>()
    for (const source of latest.values()) {
      try {
        trees.set(source.name, parsePolicy(source.check))
      } catch (err) {
        if (err instanceof PolicySyntaxError) {
          throw new PolicyRuleError(source.name, source.line, err.reason)
        }
        throw err
      }
    }
    for (const [name, tree] of trees) {
      for (const ref of referencedRules(tree)) {
        if (!trees.has(ref)) {
          throw new PolicyRuleError(name, latest.get(name)?.line, `refers to unknown rule "${ref}"`)
        }
      }
    }
    const cycle = findCycle(trees)
    if (cycle) {
      const first = cycle[0] as string
      throw new PolicyRuleError(
        first,
        latest.get(first)?.line,
        `rule references form a cycle: ${cycle.join(' -> ')}`,
      )
    }
    return new RuleSet(trees)
  }

  /** Whether the set has a rule of this name. */
  has(name: string): boolean {
    return this.#rules.has(name)
  }

  /** The names of every rule, in the order they were first given. */
  names(): string[] {
    return [...this.#rules.keys()]
  }

  /** Every rule `name` refers to through `rule:` (directly), for reporting. */
  references(name: string): Set<string> {
    const tree = this.#rules.get(name)
    return tree ? referencedRules(tree) : new Set()
  }

  /**
   * Evaluates rule `name` for a caller and a target. An unknown name is a programming error
   * (every name the code enforces has a default), so it throws rather than deny quietly.
   */
  enforce(name: string, credentials: Credentials, target: Target): boolean {
    const tree = this.#rules.get(name)
    if (!tree) throw new Error(`policy rule "${name}" is not defined`)
    return evaluate(tree, { credentials, target, rule: (n) => this.#rules.get(n) }, new Set([name]))
  }
}

// Depth-first search with three colours; returns the rules of the first cycle found, closed
// (a -> b -> a), or undefined.
function findCycle(trees: ReadonlyMap<string, PolicyNode>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const edges = new Map([...trees].map(([name, tree]) => [name, [...referencedRules(tree)]]))

  function visit(name: string): string[] | undefined {
    const seen = state.get(name)
    if (seen === 'done') return undefined
    if (seen === 'open') return [...stack.slice(stack.indexOf(name)), name]
    state.set(name, 'open')
    stack.push(name)
    for (const next of edges.get(name) ?? []) {
      const found = visit(next)
      if (found) return found
    }
    stack.pop()
    state.set(name, 'done')
    return undefined
  }

  for (const name of trees.keys()) {
    const found = visit(name)
    if (found) return found
  }
  return undefined
}
