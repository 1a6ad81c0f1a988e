/**
 * An action's events as a Gantt chart: one row per event, its bar placed on the action's time span
 * so that overlapping and slow steps show, failures red, running ones striped, stuck ones marked.
 * Each row expands (a `<details>`, keyboard-operable) to its times and, when the caller is an admin
 * (the API sends these fields to admins only), its host, details and sanitized traceback in a
 * monospaced block with a copy button.
 */
import { el } from '../dom.js'
import { absoluteTime, durationOf, formatDuration, parseTime } from '../time-format.js'
import type { TrailAction, TrailEvent } from '../types.js'
import { actionEnd, badge, eventOutcome, stored } from '../widgets.js'

/** A key for an event that survives a re-render (open rows stay open). */
export function eventKey(
  a: Pick<TrailAction, 'instance_uuid' | 'request_id'>,
  e: Pick<TrailEvent, 'event' | 'start_time'>,
): string {
  return `${a.instance_uuid} ${a.request_id} ${e.event} ${e.start_time}`
}

/** The time span the bars are drawn on: the action's start to its last known moment. */
function span(a: TrailAction, events: readonly TrailEvent[], now: number): [number, number] {
  const start = Math.min(parseTime(a.start_time), ...events.map((e) => parseTime(e.start_time)))
  const end = actionEnd(a)
  const ends = [end ? parseTime(end) : now]
  for (const e of events) ends.push(e.finish_time ? parseTime(e.finish_time) : now)
  const last = Math.max(...ends)
  return [start, Math.max(last, start + 1)]
}

function copyButton(text: string): HTMLElement {
  const button = el('button', { type: 'button', class: 'quiet copy' }, 'Copy')
  button.addEventListener('click', () => {
    void navigator.clipboard.writeText(text).then(
      () => (button.textContent = 'Copied'),
      () => (button.textContent = 'Copy failed: select the text'),
    )
  })
  return button
}

/** An admin's view of an event's internals; nothing for other callers (the fields are absent). */
function internals(e: TrailEvent): HTMLElement[] {
  const out: HTMLElement[] = []
  if ('host' in e) out.push(el('dt', {}, 'Host'), el('dd', {}, stored(e.host, 'mono')))
  if ('details' in e && e.details)
    out.push(el('dt', {}, 'Details'), el('dd', {}, stored(e.details)))
  if ('traceback' in e && e.traceback) {
    const pre = el('pre', { class: 'traceback', tabindex: '0' }, e.traceback)
    out.push(
      el('dt', {}, 'Traceback'),
      el(
        'dd',
        {},
        el(
          'details',
          { class: 'traceback-block' },
          el('summary', {}, 'Show the traceback (sanitized)'),
          copyButton(e.traceback),
          pre,
        ),
      ),
    )
  }
  return out
}

/**
 * The rows of an action's events, oldest first (the order they ran in). `stuck` holds the keys of
 * events the server's `state=stuck` listed; `open` the keys of rows left open before a re-render.
 */
export function eventRows(
  a: TrailAction,
  events: readonly TrailEvent[],
  stuck: ReadonlySet<string>,
  open: Set<string>,
  now = Date.now(),
): HTMLElement {
  const sorted = [...events].sort((x, y) => parseTime(x.start_time) - parseTime(y.start_time))
  if (sorted.length === 0) return el('p', { class: 'muted small' }, 'No events recorded.')
  const [from, to] = span(a, sorted, now)
  const width = to - from
  const list = el('ol', { class: 'events', 'aria-label': `Events of ${a.action}` })
  for (const e of sorted) {
    const key = eventKey(a, e)
    const outcome = eventOutcome(e, stuck.has(key))
    const bar = el('span', { class: `bar ${outcome}` })
    const left = ((parseTime(e.start_time) - from) / width) * 100
    const end = e.finish_time ? parseTime(e.finish_time) : now
    // CSSOM, not a style attribute: allowed by the Content-Security-Policy.
    bar.style.setProperty('--left', `${left.toFixed(2)}%`)
    bar.style.setProperty(
      '--width',
      `${Math.max(0.5, ((end - parseTime(e.start_time)) / width) * 100).toFixed(2)}%`,
    )
    const duration = formatDuration(durationOf(e.start_time, e.finish_time, now))
    const details = el(
      'details',
      { class: `event ${outcome}`, 'data-event': e.event },
      el(
        'summary',
        {},
        stored(e.event, 'name mono'),
        el('span', { class: 'track', 'aria-hidden': 'true' }, bar),
        el('span', { class: 'duration' }, e.finish_time ? duration : `${duration} so far`),
        badge(outcome),
      ),
      el(
        'dl',
        { class: 'facts' },
        el('dt', {}, 'Started'),
        el('dd', {}, absoluteTime(e.start_time)),
        el('dt', {}, 'Finished'),
        el('dd', {}, e.finish_time ? absoluteTime(e.finish_time) : 'not yet'),
        el('dt', {}, 'Duration'),
        el('dd', {}, duration),
        ...internals(e),
      ),
    )
    details.open = open.has(key)
    details.addEventListener('toggle', () => (details.open ? open.add(key) : open.delete(key)))
    list.append(el('li', {}, details))
  }
  return list
}
