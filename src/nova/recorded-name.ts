/**
 * The name of an action as Nova recorded it (its database or its API), against the names the
 * follower derives from notifications (notifications/event-map.ts), so that the three sources
 * settle on one name whatever their order (docs/nova-integration.md, "Three sources, one
 * history").
 *
 * - Nova's record beats the follower's guesses: it `replaces` every name the follower can write
 *   (a `resize` guessed from `resize.start` alone becomes the recorded `migrate`) …
 * - … except the names whose own rule corrects the recorded one (the follower's `delete` over a
 *   `confirmResize` recorded before the delete was): either order then ends on the corrector.
 * - Spec §3.3 rule 7: when one request owns several of Nova's actions for one instance
 *   (`confirmResize`, then `delete` for a server deleted while waiting for confirmation), the one
 *   ActionTrail keeps (unique (instance, request id)) is named after the **newest**: it is what
 *   Nova's own lookup by request id returns, and what answers "who deleted this server". It carries
 *   the events of both.
 */
import {
  COMPUTE_TASK_FAILURES,
  INSTANCE_FAMILIES,
  replacesOf,
  type FamilyRule,
} from './notifications/event-map.js'

// The rules' payload variants (event-map.ts `variant`) name actions that their static fields do
// not show; test/nova/recorded-name.test.ts checks that every sample's name is known here.
const VARIANTS: readonly Pick<FamilyRule, 'action' | 'replaces'>[] = [
  { action: 'createBackup' },
  { action: 'migrate', replaces: ['resize'] },
]

const RULES = [
  ...Object.values(INSTANCE_FAMILIES),
  ...Object.values(COMPUTE_TASK_FAILURES),
  ...VARIANTS,
]

/** Every action name the follower can write. */
export const DERIVED_NAMES: ReadonlySet<string> = new Set(
  RULES.flatMap((r) => [r.action, ...(r.replaces ?? [])]),
)

/** The follower's names that replace `name` (event-map.ts replacesOf: the same for every family). */
function correctorsOf(name: string): Set<string> {
  return new Set(RULES.filter((r) => replacesOf(r).includes(name)).map((r) => r.action))
}

/**
 * What a recorded name replaces in an existing action (ActionMerge `replaces`): every name the
 * follower can write and the `others` that Nova recorded for the same request, but neither the
 * name itself nor a name that corrects it.
 */
export function recordedReplaces(name: string, others: readonly string[] = []): string[] {
  const correctors = correctorsOf(name)
  return [...new Set([...DERIVED_NAMES, ...others])]
    .filter((n) => n !== name && !correctors.has(n))
    .sort()
}

/**
 * The name kept for the actions Nova recorded under one request for one instance (`names` oldest
 * first), and what it replaces (rule 7: the newest wins).
 */
export function requestName(names: readonly string[]): { action: string; replaces: string[] } {
  const action = names[names.length - 1]
  if (action === undefined) throw new Error('requestName needs at least one name')
  return { action, replaces: recordedReplaces(action, names) }
}
