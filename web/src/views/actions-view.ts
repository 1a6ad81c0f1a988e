/**
 * Recent actions across everything the caller may see, with the query API's filters in the URL
 * (a filtered view is a link), keyset "load more", and live updates: new actions matching the
 * filters appear at the top and changed ones (finished, failed) update in place.
 */
import { needsSignIn } from '../api.js'
import { loadActions } from './action-cards.js'
import { el, replaceChildren } from '../dom.js'
import { instanceNames } from '../instance-names.js'
import { LiveStream } from '../live-stream.js'
import { FILTER_KEYS, routeHref, type FilterKey } from '../routes.js'
import { durationOf, formatDuration, parseTime, toInputValue } from '../time-format.js'
import type { TrailAction, TrailEventItem, TrailInstance } from '../types.js'
import type { Dispose, ViewContext } from '../view-context.js'
import { actionEnd, actionOutcome, badge, notice, stored, timeEl } from '../widgets.js'

const PAGE = 50

const LABELS: Record<FilterKey, string> = {
  instance: 'Instance uuid',
  project: 'Project',
  user: 'User',
  action: 'Action',
  result: 'Result',
  host: 'Host (admins)',
  since: 'Since (UTC)',
  until: 'Until (UTC)',
}

function filterInput(key: FilterKey, value: string): HTMLElement {
  let control: HTMLInputElement | HTMLSelectElement
  if (key === 'result') {
    control = el(
      'select',
      { name: key, id: `filter-${key}` },
      ...['', 'success', 'error', 'running'].map((v) =>
        el('option', { value: v }, v === '' ? 'any' : v),
      ),
    )
    control.value = value
  } else {
    const time = key === 'since' || key === 'until'
    control = el('input', {
      name: key,
      id: `filter-${key}`,
      type: time ? 'datetime-local' : 'text',
    })
    if (time) (control as HTMLInputElement).step = '1'
    control.value = time ? toInputValue(value) : value
  }
  return el('label', { class: 'field', for: `filter-${key}` }, el('span', {}, LABELS[key]), control)
}

/** The filter form; submitting it changes the URL, which renders the view again. */
function filterForm(filters: URLSearchParams): HTMLFormElement {
  const form = el(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter actions' },
    ...FILTER_KEYS.map((key) => filterInput(key, filters.get(key) ?? '')),
    el(
      'div',
      { class: 'filter-buttons' },
      el('button', { type: 'submit', class: 'primary' }, 'Apply'),
      el(
        'a',
        {
          href: routeHref({ view: 'actions', filters: new URLSearchParams() }),
          class: 'button quiet',
        },
        'Clear',
      ),
    ),
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    const next = new URLSearchParams()
    for (const key of FILTER_KEYS) {
      const value = String(new FormData(form).get(key) ?? '').trim()
      if (value) next.set(key, value)
    }
    location.hash = routeHref({ view: 'actions', filters: next })
  })
  return form
}

/** Does a streamed action match the filters the stream cannot apply (result, time window)? */
function matchesLocally(a: TrailAction, filters: URLSearchParams): boolean {
  const result = filters.get('result')
  if (result === 'error' && a.message !== 'Error') return false
  // The API's own definitions (docs/operations.md): by the action's finish time, not its events.
  if (result === 'running' && a.finish_time !== null) return false
  if (result === 'success' && (a.finish_time === null || a.message === 'Error')) return false
  const since = filters.get('since')
  if (since && parseTime(a.start_time) < parseTime(since)) return false
  const until = filters.get('until')
  if (until && parseTime(a.start_time) > parseTime(until)) return false
  return true
}

function actionRow(
  a: TrailAction,
  names: ReadonlyMap<string, TrailInstance>,
  stuck: ReadonlySet<string>,
  now: number,
): HTMLElement {
  const name = names.get(a.instance_uuid)?.name
  const end = actionEnd(a)
  const duration = formatDuration(durationOf(a.start_time, end, now))
  return el(
    'tr',
    { 'data-request-id': a.request_id },
    el('td', { 'data-label': 'Started' }, timeEl(a.start_time)),
    el(
      'td',
      { 'data-label': 'Instance' },
      el(
        'a',
        { href: routeHref({ view: 'instance', uuid: a.instance_uuid }) },
        stored(name ?? a.instance_uuid),
      ),
    ),
    el(
      'td',
      { 'data-label': 'Action' },
      el(
        'a',
        { href: routeHref({ view: 'action', uuid: a.instance_uuid, requestId: a.request_id }) },
        stored(a.action),
      ),
    ),
    el(
      'td',
      { 'data-label': 'Result' },
      badge(actionOutcome(a, stuck.has(`${a.instance_uuid} ${a.request_id}`))),
    ),
    el('td', { 'data-label': 'Duration' }, end ? duration : `${duration} so far`),
    el('td', { 'data-label': 'Events', class: 'small' }, String(a.events?.length ?? 0)),
    el(
      'td',
      { 'data-label': 'User', class: 'mono small', title: a.user_id ?? '' },
      stored(a.user_id, 'id'),
    ),
    el(
      'td',
      { 'data-label': 'Project', class: 'mono small', title: a.project_id ?? '' },
      stored(a.project_id, 'id'),
    ),
  )
}

/** Renders the recent-actions view for `filters` into `main`. */
export function renderActions(
  main: HTMLElement,
  filters: URLSearchParams,
  ctx: ViewContext,
): Dispose {
  const rows = el('tbody')
  const status = el('div', { 'aria-live': 'polite' })
  const more = el('button', { type: 'button', class: 'more', hidden: true }, 'Load more')
  const table = el(
    'table',
    { class: 'actions' },
    el('caption', { class: 'visually-hidden' }, 'Recent actions, newest first'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['Started', 'Instance', 'Action', 'Result', 'Duration', 'Events', 'User', 'Project'].map(
          (h) => el('th', {}, h),
        ),
      ),
    ),
    rows,
  )
  const active = [...filters.keys()].length
  const box = el(
    'details',
    { class: 'filter-box' },
    el('summary', {}, active ? `Filters (${active} active)` : 'Filters'),
    filterForm(filters),
  )
  // Open on a wide screen or when filters are set; a phone starts with the list.
  box.open = active > 0 || matchMedia('(min-width: 641px)').matches
  replaceChildren(main, el('h1', {}, 'Recent actions'), box, status, table, more)

  const shown: TrailAction[] = []
  const stuck = new Set<string>()
  let names: ReadonlyMap<string, TrailInstance> = new Map()
  let cursor: string | null = null
  let disposed = false
  const key = (a: TrailAction) => `${a.instance_uuid} ${a.request_id}`

  const draw = () => {
    const now = Date.now()
    replaceChildren(rows, ...shown.map((a) => actionRow(a, names, stuck, now)))
    table.hidden = shown.length === 0
    replaceChildren(status, shown.length === 0 ? notice('No actions match.') : null)
    more.hidden = cursor === null
  }
  const fail = (err: unknown) => {
    if (disposed) return
    if (needsSignIn(err)) return ctx.signInAgain()
    replaceChildren(
      status,
      notice(err instanceof Error ? err.message : 'The server could not be reached.', 'error'),
    )
  }
  const load = async (after?: string) => {
    const [page, known] = await Promise.all([loadActions(filters, PAGE, after), instanceNames()])
    if (disposed) return
    names = known
    shown.push(...page.actions)
    for (const k of page.stuckActions) stuck.add(k)
    cursor = page.nextCursor
    draw()
  }

  table.hidden = true
  replaceChildren(status, notice('Loading…'))
  void load().then(() => ctx.ready(), fail)
  more.addEventListener('click', () => {
    if (!cursor) return
    more.disabled = true
    void load(cursor)
      .catch(fail)
      .finally(() => (more.disabled = false))
  })

  // The stream applies the filters it knows; result and the time window are checked here. A host
  // selects events, which this view does not list: with a host filter the view is not live.
  if (filters.has('host')) {
    ctx.streamStatus({ state: 'stopped', message: 'Not live with a host filter' })
    return () => {
      disposed = true
      ctx.streamStatus(undefined)
    }
  }
  const streamParams = new URLSearchParams()
  for (const k of ['instance', 'project', 'user', 'action'] as const) {
    const value = filters.get(k)
    if (value) streamParams.set(k, value)
  }
  const stream = new LiveStream(streamParams, {
    message: ({ kind, data }) => {
      const changed =
        kind === 'action' ? upsertAction(data) : kind === 'event' ? upsertEvent(data) : undefined
      if (!changed) return
      // A new instance's name is read before the row is drawn.
      void instanceNames(changed.instance_uuid).then(
        (known) => {
          names = known
          if (!disposed) draw()
        },
        () => draw(),
      )
    },
    status: (s) => ctx.streamStatus(s),
    unauthorized: () => ctx.signInAgain(),
  })
  // A streamed action: updated in place (its events kept), or added on top when it matches.
  function upsertAction(data: unknown): TrailAction | undefined {
    const a = (data as { action?: TrailAction }).action
    if (!a) return undefined
    const at = shown.findIndex((s) => key(s) === key(a))
    const known = shown[at]
    if (known) shown[at] = { ...a, events: known.events ?? [] }
    else if (matchesLocally(a, filters)) shown.unshift({ ...a, events: [] })
    else return undefined
    return a
  }
  // A streamed event: merged into its action's row, when that row is shown.
  function upsertEvent(data: unknown): TrailAction | undefined {
    const item = data as Partial<TrailEventItem>
    const a = shown.find(
      (s) => s.instance_uuid === item.instance_uuid && s.request_id === item.request_id,
    )
    const e = item.event
    if (!a || !e) return undefined
    const events = (a.events ?? []).filter(
      (x) => x.event !== e.event || x.start_time !== e.start_time,
    )
    a.events = [...events, e]
    return a
  }

  return () => {
    disposed = true
    stream.stop()
    ctx.streamStatus(undefined)
  }
}
