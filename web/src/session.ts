/**
 * The signed-in token, kept in session storage: it lasts as long as the tab, is not shared with
 * other tabs or sent anywhere by the browser itself, and never appears in the URL.
 */
const KEY = 'actiontrail.token'

/** The token of this tab's session, if signed in. */
export function sessionToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined
}

/** Signs in: keeps the token for this tab. */
export function keepToken(token: string): void {
  sessionStorage.setItem(KEY, token)
}

/** Signs out: forgets the token. */
export function forgetToken(): void {
  sessionStorage.removeItem(KEY)
}
