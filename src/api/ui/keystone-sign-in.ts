/**
 * Keystone mode's sign-in for the Action Log page: `POST /ui/sign-in` exchanges a user name,
 * password and project for a project-scoped Keystone token. The page cannot ask Keystone itself:
 * Keystone sends no CORS headers by default, and the page's Content-Security-Policy allows
 * requests to this server only. The password goes to Keystone and nowhere else (no log line, no
 * store); the token comes back in the body, answered `no-store`, for the page's session storage.
 */
import { AppError } from '../../domain/errors.js'
import { loginBody } from '../../auth/keystone/keystone-credentials.js'
import { tokenExpiry } from '../../auth/keystone/keystone-token.js'
import { describe } from '../../auth/keystone/service-token.js'
import { Type, type Static } from 'typebox'

// Keystone's own limits: names of 255 characters, passwords of 4096 bytes at most.
const NAME = Type.String({ minLength: 1, maxLength: 255 })

/** The sign-in form. */
export const SignInBody = Type.Object(
  {
    username: NAME,
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    project: NAME,
    user_domain: Type.Optional(NAME),
    project_domain: Type.Optional(NAME),
  },
  { additionalProperties: false },
)

/** The sign-in form, typed. */
export type SignIn = Static<typeof SignInBody>

/** A signed-in session: the token and when it stops working. */
export interface SignedIn {
  token: string
  expires_at: string
}

/** How to reach Keystone. */
export interface KeystoneSignInOptions {
  /** Keystone's v3 URL. */
  url: string
  timeoutMs: number
  fetch?: typeof globalThis.fetch
}

/**
 * Logs in to Keystone with the form's credentials. Keystone refusing them is `unauthorized` (401),
 * Keystone not answering (or answering nonsense) `identity_unavailable` (503); neither message
 * repeats what was sent.
 */
export async function keystoneSignIn(
  form: SignIn,
  options: KeystoneSignInOptions,
): Promise<SignedIn> {
  const fetch = options.fetch ?? globalThis.fetch
  let res: Response
  let body: unknown
  try {
    res = await fetch(`${options.url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: loginBody({
        kind: 'password',
        username: form.username,
        password: form.password,
        project: form.project,
        userDomain: form.user_domain ?? 'Default',
        projectDomain: form.project_domain ?? 'Default',
      }),
      signal: AbortSignal.timeout(options.timeoutMs),
    })
    body = await res.json().catch(() => undefined)
  } catch (err) {
    throw new AppError('identity_unavailable', `Keystone did not answer (${describe(err)}).`)
  }
  // 400 (a malformed scope), 401 (wrong password, unknown user or project) and 404 all mean the
  // same to the person signing in.
  if (res.status >= 400 && res.status < 500)
    throw new AppError('unauthorized', 'Keystone refused the user name, password or project.')
  const token = res.headers.get('x-subject-token')
  const expires = tokenExpiry(body)
  if (res.status !== 201 || !token || !expires)
    throw new AppError('identity_unavailable', `Keystone answered HTTP ${res.status}.`)
  return { token, expires_at: expires.toISOString() }
}
