/** Small pieces shared by the views: result badges, times, user-controlled text. */
import { el } from './dom.js'
import { absoluteTime, parseTime, relativeTime } from './time-format.js'
import type { TrailAction, TrailEvent } from './types.js'

/** How a piece of work ended, or that it has not. */
export type Outcome = 'success' | 'error' | 'running' | 'stuck'

/**
 * When an action ended: its finish time, or else the last finish of its events once every event
 * has finished (Nova sets an action's finish time on few paths; its events tell when work ended).
 * Null while it runs, or when its events are not known.
 */
export function actionEnd(a: TrailAction): string | null {
  if (a.finish_time) return a.finish_time
  const events = a.events
  if (!events || events.length === 0 || events.some((e) => e.finish_time === null)) return null
  return events
    .map((e) => e.finish_time as string)
    .reduce((x, y) => (parseTime(x) >= parseTime(y) ? x : y))
}

/**
 * An action's outcome: `error` once an event failed, `success` once it ended (actionEnd), else
 * `stuck` when the server's `state=stuck` listed it, else `running`.
 */
export function actionOutcome(a: TrailAction, stuck: boolean): Outcome {
  if (a.message === 'Error') return 'error'
  if (actionEnd(a) !== null) return 'success'
  return stuck ? 'stuck' : 'running'
}

/** An event's outcome. */
export function eventOutcome(e: TrailEvent, stuck: boolean): Outcome {
  if (e.result === 'Error') return 'error'
  if (e.finish_time === null) return stuck ? 'stuck' : 'running'
  return 'success'
}

const LABELS: Record<Outcome, string> = {
  success: 'Success',
  error: 'Error',
  running: 'Running',
  stuck: 'Running too long',
}

/** A result badge. */
export function badge(outcome: Outcome): HTMLElement {
  return el('span', { class: `badge ${outcome}` }, LABELS[outcome])
}

/** A `<time>`: relative, with the absolute UTC time beside it (or as its title when `compact`). */
export function timeEl(text: string, compact = false): HTMLElement {
  const abs = absoluteTime(text)
  if (compact) return el('time', { datetime: text, title: abs }, relativeTime(text))
  return el(
    'time',
    { datetime: text, title: abs },
    relativeTime(text),
    el('span', { class: 'abs' }, abs),
  )
}

/**
 * Text someone stored (names, ids, hosts): a text node in an isolating span, so that bidi control
 * characters in it cannot reorder the page's own text around it.
 */
export function stored(text: string | null | undefined, cls = ''): HTMLElement {
  return el('span', { class: `stored ${cls}`.trim() }, text ?? '—')
}

/** A message line for failures and empty results. */
export function notice(text: string, kind: 'error' | 'muted' = 'muted'): HTMLElement {
  return el(
    'p',
    {
      class: kind === 'error' ? 'notice error' : 'notice muted',
      role: kind === 'error' ? 'alert' : undefined,
    },
    text,
  )
}
