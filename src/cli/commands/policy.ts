/**
 * `actiontrail policy show|check`: the effective access policy (defaults and a policy file's
 * overrides) and one decision, offline, with the same engine `serve` uses. `check` exits 0 when
 * the rule allows, 1 when it denies, and 2 for bad input (unknown rule, broken policy file).
 */
import type { Command } from 'commander'
import type { AccessPolicy, EffectiveRule } from '../../auth/access-policy.js'
import { loadAccessPolicy } from '../../auth/policy-file.js'
import type { Target } from '../../auth/policy-language/index.js'
import { AppError } from '../../domain/errors.js'

const POLICY_FILE_HELP = 'oslo.policy file (YAML or JSON; env ACTIONTRAIL_POLICY_FILE)'

/** What `check` decides, for its output and exit code. */
export type CheckOutcome = 'allow' | 'deny'

interface CheckOptions {
  policyFile?: string
  roles?: string
  tokenRoles?: string
  project?: string
  user?: string
  systemScope?: string
  target: string[]
}

function policyFileOf(flag: string | undefined): string | undefined {
  return flag ?? (process.env.ACTIONTRAIL_POLICY_FILE || undefined)
}

async function load(flag: string | undefined): Promise<AccessPolicy> {
  // Warnings go to stderr so that `show`'s output stays a valid policy file.
  return loadAccessPolicy(policyFileOf(flag), (message) => console.error(`warning: ${message}`))
}

function origin(rule: EffectiveRule): string {
  const where = rule.line === undefined ? '' : ` at line ${rule.line}`
  if (rule.origin === 'overridden')
    return `# OVERRIDDEN${where}; default: ${JSON.stringify(rule.defaultCheck)}`
  if (rule.origin === 'added') return `# ADDED by the policy file${where}`
  return '# default'
}

/** The effective rules as a YAML policy file, each with its description and origin. */
export function formatPolicy(rules: readonly EffectiveRule[]): string {
  const lines: string[] = []
  for (const rule of rules) {
    if (rule.description) lines.push(`# ${rule.description}`)
    lines.push(origin(rule))
    lines.push(`${JSON.stringify(rule.name)}: ${JSON.stringify(rule.check)}`, '')
  }
  return lines.join('\n')
}

function parseTarget(pairs: readonly string[]): Record<string, string> {
  const target: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new AppError('invalid_input', `--target expects key=value, got "${pair}"`)
    target[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return target
}

/** Decides `rule` for the caller and target the options describe. */
export function checkRule(policy: AccessPolicy, rule: string, opts: CheckOptions): CheckOutcome {
  if (!policy.has(rule)) throw new AppError('invalid_input', `unknown policy rule "${rule}"`)
  const roles = (opts.roles ?? opts.tokenRoles ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '')
  const credentials = policy.credentialsFor({
    userId: opts.user ?? null,
    projectId: opts.project ?? null,
    roles,
    ...(opts.systemScope === undefined ? {} : { systemScope: opts.systemScope }),
  })
  // As Nova's routes do, the target defaults to the caller's own project and user.
  const target: Target = {
    ...(opts.project === undefined ? {} : { project_id: opts.project }),
    ...(opts.user === undefined ? {} : { user_id: opts.user }),
    ...parseTarget(opts.target),
  }
  return policy.check(rule, credentials, target) ? 'allow' : 'deny'
}

/** Registers `policy show` and `policy check`. */
export function policyCommand(program: Command): void {
  const policy = program
    .command('policy')
    .description('show the access policy, or check one rule for a caller (offline)')
  policy
    .command('show')
    .description('print the effective rules (defaults, and what a policy file overrides or adds)')
    .option('--policy-file <file>', POLICY_FILE_HELP)
    .option('--json', 'print JSON (name, check, origin, default_check, line) instead of YAML')
    .action(async (opts: { policyFile?: string; json?: boolean }) => {
      const rules = (await load(opts.policyFile)).describe()
      if (opts.json) {
        const rows = rules.map((r) => ({
          name: r.name,
          check: r.check,
          origin: r.origin,
          ...(r.defaultCheck === undefined ? {} : { default_check: r.defaultCheck }),
          ...(r.line === undefined ? {} : { line: r.line }),
        }))
        console.log(JSON.stringify(rows, null, 2))
        return
      }
      process.stdout.write(formatPolicy(rules))
    })
  policy
    .command('check')
    .description('print allow or deny for RULE; exit 0 allow, 1 deny, 2 bad input')
    .argument('<rule>', 'rule name, e.g. os_compute_api:os-instance-actions:events')
    .option('--policy-file <file>', POLICY_FILE_HELP)
    .option('--roles <roles>', "the caller's roles, comma-separated (implied roles are added)")
    .option('--token-roles <roles>', 'the same as --roles')
    .option('--project <id>', "the caller's project (also the target's, unless --target says)")
    .option('--user <id>', "the caller's user (also the target's, unless --target says)")
    .option('--system-scope <scope>', 'a system-scoped token (all)')
    .option(
      '--target <key=value>',
      'a target attribute, e.g. project_id=… (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .action(async (rule: string, opts: CheckOptions) => {
      const outcome = checkRule(await load(opts.policyFile), rule, opts)
      console.log(outcome)
      process.exitCode = outcome === 'allow' ? 0 : 1
    })
}
