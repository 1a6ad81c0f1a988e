/**
 * The sign-in form: a token (static token file, no-auth) or, in Keystone mode, a user name,
 * password and project exchanged for a token by this server (`POST /ui/sign-in`). The token is
 * checked with one query before the page moves on, and kept in session storage only.
 */
import { ApiError, errorOf, queryActions } from '../api.js'
import { el, replaceChildren } from '../dom.js'
import { forgetToken, keepToken } from '../session.js'
import { notice } from '../widgets.js'

/** Which form the server wants (`GET /ui/config.json`). */
export type AuthKind = 'token' | 'keystone'

function field(label: string, input: HTMLInputElement): HTMLElement {
  return el('label', { class: 'field' }, el('span', {}, label), input)
}

function input(
  name: string,
  type: string,
  autocomplete: string,
  required = true,
): HTMLInputElement {
  const node = el('input', { name, type, id: `sign-in-${name}` })
  node.autocomplete = autocomplete as AutoFill
  node.required = required
  return node
}

/** Exchanges Keystone credentials for a token through this server. */
async function keystoneToken(form: FormData): Promise<string> {
  const text = (name: string) => String(form.get(name) ?? '').trim()
  const body: Record<string, string> = {
    username: text('username'),
    password: String(form.get('password') ?? ''),
    project: text('project'),
  }
  if (text('domain')) {
    body.user_domain = text('domain')
    body.project_domain = text('domain')
  }
  const res = await fetch('/ui/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
  })
  if (!res.ok) throw await errorOf(res)
  return ((await res.json()) as { token: string }).token
}

/** Renders the form; `done` runs once a working token is kept. */
export function renderSignIn(main: HTMLElement, kind: AuthKind, done: () => void): void {
  const message = el('div', { 'aria-live': 'polite' })
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Sign in')
  const fields =
    kind === 'keystone'
      ? [
          field('User name', input('username', 'text', 'username')),
          field('Password', input('password', 'password', 'current-password')),
          field('Project', input('project', 'text', 'organization')),
          field('Domain (optional, Default)', input('domain', 'text', 'off', false)),
        ]
      : [field('Token', input('token', 'password', 'current-password'))]
  const form = el(
    'form',
    { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    el('h1', { id: 'sign-in-title' }, 'Sign in'),
    el(
      'p',
      { class: 'muted' },
      kind === 'keystone'
        ? 'Your OpenStack (Keystone) account. The password goes to Keystone through this server, and is not kept.'
        : 'An ActionTrail token (X-Auth-Token). It is kept in this tab only, until you sign out or close it.',
    ),
    ...fields,
    submit,
    message,
  )
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    submit.disabled = true
    replaceChildren(message)
    void (async () => {
      try {
        const data = new FormData(form)
        const token =
          kind === 'keystone' ? await keystoneToken(data) : String(data.get('token') ?? '').trim()
        if (!token) throw new ApiError(400, 'invalid_input', 'Enter a token.')
        keepToken(token)
        // One small query proves the token works before the page moves on.
        await queryActions(new URLSearchParams({ limit: '1' }))
        done()
      } catch (err) {
        forgetToken()
        const text =
          err instanceof ApiError
            ? err.status === 401 && kind === 'token'
              ? 'This token was refused.'
              : err.message
            : 'The server could not be reached.'
        replaceChildren(message, notice(text, 'error'))
        submit.disabled = false
      }
    })()
  })
  replaceChildren(main, form)
  ;(form.querySelector('input') as HTMLInputElement | null)?.focus()
}
