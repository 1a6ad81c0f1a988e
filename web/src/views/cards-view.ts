/**
 * An instance's timeline (its actions newest first, each with its events' Gantt rows, and "load
 * more" by cursor) and an action's detail (the same card, alone). Both follow the stream for the
 * instance (and the action) and reload what they show when a change arrives, keeping open rows
 * open.
 */
import { needsSignIn } from '../api.js'
import { el, replaceChildren } from '../dom.js'
import { instanceNames } from '../instance-names.js'
import { LiveStream } from '../live-stream.js'
import { routeHref } from '../routes.js'
import type { Dispose, ViewContext } from '../view-context.js'
import { notice, stored } from '../widgets.js'
import { actionCard, loadActions, type LoadedActions } from './action-cards.js'

const PAGE = 20
// Changes often come in bursts (an event, then its action): one reload for a burst.
const RELOAD_DELAY_MS = 250

/** What to show: one instance's actions, or one action of it. */
export interface CardsTarget {
  uuid: string
  requestId?: string
}

/** Renders the timeline or the detail into `main`. */
export function renderCards(main: HTMLElement, target: CardsTarget, ctx: ViewContext): Dispose {
  const filter = new URLSearchParams({ instance: target.uuid })
  if (target.requestId) filter.set('request_id', target.requestId)
  const open = new Set<string>()
  const title = el('h1', {}, target.requestId ? 'Action' : 'Instance timeline')
  const subtitle = el('p', { class: 'muted' })
  const body = el('div', { class: 'cards', 'aria-live': 'polite' }, notice('Loading…'))
  const more = el('button', { type: 'button', class: 'more', hidden: true }, 'Load more')
  const back = target.requestId
    ? el('a', { href: routeHref({ view: 'instance', uuid: target.uuid }) }, '← Instance timeline')
    : el(
        'a',
        { href: routeHref({ view: 'actions', filters: new URLSearchParams() }) },
        '← Recent actions',
      )
  replaceChildren(main, el('nav', { class: 'crumbs' }, back), title, subtitle, body, more)

  let shown: LoadedActions | undefined
  let disposed = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const draw = () => {
    if (!shown) return
    const now = Date.now()
    if (shown.actions.length === 0)
      replaceChildren(
        body,
        notice(target.requestId ? 'No such action, or not yours to see.' : 'No actions recorded.'),
      )
    else
      replaceChildren(
        body,
        ...shown.actions.map((a) => actionCard(a, shown as LoadedActions, open, now)),
      )
    more.hidden = target.requestId !== undefined || shown.nextCursor === null
  }

  const fail = (err: unknown) => {
    if (disposed) return
    if (needsSignIn(err)) return ctx.signInAgain()
    replaceChildren(
      body,
      notice(err instanceof Error ? err.message : 'The server could not be reached.', 'error'),
    )
  }

  // Reloads as many actions as are shown (a page at least), so that a live change updates in place.
  const reload = async () => {
    const count = Math.min(1000, Math.max(PAGE, shown?.actions.length ?? 0))
    const loaded = await loadActions(filter, count)
    if (disposed) return
    shown = loaded
    draw()
  }

  void instanceNames(target.uuid)
    .then((names) => {
      const instance = names.get(target.uuid)
      replaceChildren(
        subtitle,
        'Instance ',
        stored(instance?.name ?? target.uuid, 'strong'),
        instance ? el('span', { class: 'mono small' }, ` ${target.uuid}`) : null,
        instance?.deleted_at ? el('span', { class: 'badge deleted' }, 'Deleted') : null,
        target.requestId ? el('span', {}, ' · request ', stored(target.requestId, 'mono')) : null,
      )
    })
    .catch(() => replaceChildren(subtitle, stored(target.uuid, 'mono')))

  void reload().then(() => ctx.ready(), fail)

  more.addEventListener('click', () => {
    if (!shown?.nextCursor) return
    more.disabled = true
    void loadActions(filter, PAGE, shown.nextCursor)
      .then((next) => {
        if (disposed || !shown) return
        shown = {
          actions: [...shown.actions, ...next.actions],
          nextCursor: next.nextCursor,
          stuckActions: new Set([...shown.stuckActions, ...next.stuckActions]),
          stuckEvents: new Set([...shown.stuckEvents, ...next.stuckEvents]),
        }
        draw()
      }, fail)
      .finally(() => (more.disabled = false))
  })

  const stream = new LiveStream(filter, {
    message: () => {
      clearTimeout(timer)
      timer = setTimeout(() => void reload().catch(fail), RELOAD_DELAY_MS)
    },
    status: (status) => ctx.streamStatus(status),
    unauthorized: () => ctx.signInAgain(),
  })
  return () => {
    disposed = true
    clearTimeout(timer)
    stream.stop()
    ctx.streamStatus(undefined)
  }
}
