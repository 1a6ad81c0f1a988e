/**
 * The Action Log page: signs in (token or Keystone, as `/ui/config.json` says), then shows the view
 * the URL's fragment names, replacing it when the fragment changes. Each view owns its live stream
 * and stops it when the page moves on.
 */
import './styles.css'
import { ApiError } from './api.js'
import { byId, replaceChildren } from './dom.js'
import { forgetInstanceNames } from './instance-names.js'
import type { StreamStatus } from './live-stream.js'
import { parseRoute } from './routes.js'
import { forgetToken, sessionToken } from './session.js'
import type { Dispose, ViewContext } from './view-context.js'
import { renderActions } from './views/actions-view.js'
import { renderCards } from './views/cards-view.js'
import { renderSignIn, type AuthKind } from './views/sign-in-view.js'
import { notice } from './widgets.js'

const main = byId('main')
const live = byId('live')
const signOut = byId<HTMLButtonElement>('sign-out')
let dispose: Dispose | undefined
let authKind: AuthKind = 'token'
let interactive = false

function describe(status: StreamStatus): [string, string] {
  switch (status.state) {
    case 'connecting':
      return ['Connecting to live updates…', 'pending']
    case 'live':
      return ['Live', 'ok']
    case 'resumed':
      return [`Reconnected: resumed after change ${status.after}`, 'ok']
    case 'reconnecting':
      return [`Connection lost: reconnecting in ${Math.ceil(status.inMs / 1000)} s`, 'warn']
    case 'stopped':
      return [status.message, 'warn']
  }
}

const ctx: ViewContext = {
  streamStatus(status) {
    if (!status) {
      live.textContent = ''
      live.className = 'live'
      return
    }
    const [text, kind] = describe(status)
    live.textContent = text
    live.className = `live ${kind}`
    live.dataset.state = status.state
  },
  signInAgain() {
    forgetToken()
    show()
  },
  ready() {
    if (interactive) return
    interactive = true
    // Time to interactive of the first view, read by the browser test (reported, not asserted).
    performance.mark('actiontrail:interactive')
  },
}

/** Renders what the URL names (or the sign-in form). */
function show(): void {
  dispose?.()
  dispose = undefined
  if (!sessionToken()) {
    signOut.hidden = true
    forgetInstanceNames()
    renderSignIn(main, authKind, show)
    return
  }
  signOut.hidden = false
  const route = parseRoute(location.hash)
  if (route.view === 'actions') dispose = renderActions(main, route.filters, ctx)
  else
    dispose = renderCards(
      main,
      { uuid: route.uuid, ...(route.view === 'action' ? { requestId: route.requestId } : {}) },
      ctx,
    )
}

signOut.addEventListener('click', () => {
  forgetToken()
  forgetInstanceNames()
  show()
})
window.addEventListener('hashchange', () => {
  show()
  main.focus({ preventScroll: true })
})

async function start(): Promise<void> {
  try {
    const res = await fetch('/ui/config.json', { cache: 'no-store' })
    if (!res.ok) throw new ApiError(res.status, 'config', `The server answered HTTP ${res.status}.`)
    authKind = ((await res.json()) as { auth?: string }).auth === 'keystone' ? 'keystone' : 'token'
  } catch {
    replaceChildren(main, notice('The server could not be reached.', 'error'))
    return
  }
  show()
}

void start()
