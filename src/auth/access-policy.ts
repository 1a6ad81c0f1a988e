/**
 * The access policy: the default rules overridden by an operator's policy file, parsed and checked
 * once at start (a broken file stops start-up), and asked per request through policy.ts.
 */
import { DEFAULT_RULES, type PolicyRuleName } from './policy-defaults.js'
import { credentialsOf, type PolicySubject } from './policy-credentials.js'
import { RuleSet, type Credentials, type RuleSource, type Target } from './policy-language/index.js'

/** One effective rule, for `actiontrail policy show`. */
export interface EffectiveRule {
  name: string
  check: string
  /** `default`: as shipped; `overridden`: a default the file replaced; `added`: a file-only rule. */
  origin: 'default' | 'overridden' | 'added'
  /** The shipped check string of an overridden rule. */
  defaultCheck?: string
  description?: string
  line?: number
}

/** How to build an access policy. */
export interface AccessPolicyOptions {
  /** Rules from a policy file (they replace defaults of the same name, or add helper rules). */
  overrides?: readonly RuleSource[]
  /** Receives warnings about the overrides (rules nothing uses); the policy still loads. */
  onWarning?: (message: string) => void
}

const DEFAULT_NAMES: ReadonlySet<string> = new Set(DEFAULT_RULES.map((r) => r.name))

/** The rules in force. Build it once (`AccessPolicy.create`) and pass it to the app. */
export class AccessPolicy {
  readonly #rules: RuleSet
  readonly #effective: readonly EffectiveRule[]

  private constructor(rules: RuleSet, effective: readonly EffectiveRule[]) {
    this.#rules = rules
    this.#effective = effective
  }

  /**
   * Builds the policy; throws PolicyRuleError (rule, line, reason) for a check string that does
   * not parse, a reference to an unknown rule, or a cycle of references.
   */
  static create(options: AccessPolicyOptions = {}): AccessPolicy {
    const overrides = options.overrides ?? []
    const rules = RuleSet.build([...DEFAULT_RULES, ...overrides])
    const byName = new Map(overrides.map((o) => [o.name, o]))
    const effective: EffectiveRule[] = DEFAULT_RULES.map((d) => {
      const o = byName.get(d.name)
      if (!o) return { name: d.name, check: d.check, origin: 'default', description: d.description }
      return {
        name: d.name,
        check: o.check,
        origin: 'overridden',
        defaultCheck: d.check,
        description: d.description,
        ...(o.line === undefined ? {} : { line: o.line }),
      }
    })
    const referenced = new Set(rules.names().flatMap((n) => [...rules.references(n)]))
    for (const o of byName.values()) {
      if (DEFAULT_NAMES.has(o.name)) continue
      effective.push({
        name: o.name,
        check: o.check,
        origin: 'added',
        ...(o.line === undefined ? {} : { line: o.line }),
      })
      // oslo warns about unknown names too; a helper rule that something references is fine.
      if (!referenced.has(o.name)) {
        options.onWarning?.(
          `policy rule "${o.name}"${o.line === undefined ? '' : ` (line ${o.line})`} is not an ` +
            'ActionTrail rule and no rule refers to it: it has no effect (misspelt?)',
        )
      }
    }
    return new AccessPolicy(rules, effective)
  }

  /** Nova's `is_admin`: whether `context_is_admin` passes for the subject (with is_admin false). */
  credentialsFor(subject: PolicySubject): Credentials {
    const base = credentialsOf(subject)
    const isAdmin = this.#rules.enforce('context_is_admin', base, {})
    return isAdmin ? credentialsOf(subject, true) : base
  }

  /** Whether `rule` allows the subject on the target (oslo's enforce(rule, target, creds)). */
  allows(rule: PolicyRuleName, subject: PolicySubject, target: Target = {}): boolean {
    return this.#rules.enforce(rule, this.credentialsFor(subject), target)
  }

  /** Like `allows`, for any rule of the set by name (the CLI's `policy check`). */
  check(rule: string, credentials: Credentials, target: Target = {}): boolean {
    return this.#rules.enforce(rule, credentials, target)
  }

  /** Whether the set defines `rule` (a default or a file's rule). */
  has(rule: string): boolean {
    return this.#rules.has(rule)
  }

  /** The effective rules: defaults in order (overridden ones marked), then the file's additions. */
  describe(): readonly EffectiveRule[] {
    return this.#effective
  }
}

/** The policy with only the defaults: today's access, and what tests build apps with. */
export const DEFAULT_POLICY: AccessPolicy = AccessPolicy.create()
