/**
 * Actions with their events, as the instance timeline and the action detail show them: a card per
 * action (name, result, times, duration, who) over its events' Gantt rows. Also the loading both
 * share: the actions with `include=events`, and which of them and of their events the server
 * counts as stuck (`state=stuck`, the server's own deadlines per action name).
 */
import { queryActions, queryEvents } from '../api.js'
import { el } from '../dom.js'
import { routeHref } from '../routes.js'
import { durationOf, formatDuration } from '../time-format.js'
import type { TrailAction } from '../types.js'
import { actionEnd, actionOutcome, badge, stored, timeEl } from '../widgets.js'
import { eventKey, eventRows } from './event-rows.js'

/** A loaded page of actions with what is stuck in it. */
export interface LoadedActions {
  actions: TrailAction[]
  nextCursor: string | null
  stuckActions: Set<string>
  stuckEvents: Set<string>
}

/** Loads actions (with events) matching `filter`, and the stuck ones among them. */
export async function loadActions(
  filter: URLSearchParams,
  limit: number,
  cursor?: string,
): Promise<LoadedActions> {
  const params = new URLSearchParams(filter)
  params.set('include', 'events')
  params.set('limit', String(limit))
  if (cursor) params.set('cursor', cursor)
  const stuckParams = new URLSearchParams(filter)
  stuckParams.set('state', 'stuck')
  stuckParams.set('limit', '1000')
  const [page, stuckActions, stuckEvents] = await Promise.all([
    queryActions(params),
    queryActions(stuckParams),
    queryEvents(stuckParams),
  ])
  return {
    actions: page.actions,
    nextCursor: page.next_cursor,
    stuckActions: new Set(stuckActions.actions.map((a) => `${a.instance_uuid} ${a.request_id}`)),
    stuckEvents: new Set(stuckEvents.events.map((e) => eventKey(e, e))),
  }
}

/** One action's card. */
export function actionCard(
  a: TrailAction,
  loaded: LoadedActions,
  open: Set<string>,
  now = Date.now(),
): HTMLElement {
  const outcome = actionOutcome(a, loaded.stuckActions.has(`${a.instance_uuid} ${a.request_id}`))
  const end = actionEnd(a)
  const duration = formatDuration(durationOf(a.start_time, end, now))
  return el(
    'article',
    { class: `card ${outcome}`, 'data-request-id': a.request_id },
    el(
      'header',
      {},
      el(
        'h3',
        {},
        el(
          'a',
          { href: routeHref({ view: 'action', uuid: a.instance_uuid, requestId: a.request_id }) },
          stored(a.action),
        ),
      ),
      badge(outcome),
      el('span', { class: 'duration' }, end ? duration : `${duration} so far`),
      timeEl(a.start_time),
    ),
    el(
      'p',
      { class: 'who small muted' },
      'user ',
      stored(a.user_id, 'mono'),
      ' · project ',
      stored(a.project_id, 'mono'),
      ' · request ',
      stored(a.request_id, 'mono'),
    ),
    eventRows(a, a.events ?? [], loaded.stuckEvents, open, now),
  )
}
