/**
 * The token file mode's authenticator as the server runs it: the file's tokens, replaced by
 * `reload()` (the server calls it on SIGHUP). A file that cannot be read or does not validate
 * keeps the tokens in use and reports why (the messages of token-file.ts never include a token),
 * so a typo while editing never locks every client out.
 */
import type { Authenticator, Principal } from './principal.js'
import {
  loadTokenFile,
  type StaticTokenAuthenticator,
  type TokenFileOptions,
} from './token-file.js'

/** The outcome of a reload. */
export type ReloadResult = { ok: true; tokens: number } | { ok: false; reason: string }

/** A token file authenticator that can re-read its file. */
export class ReloadingTokenFile implements Authenticator {
  #current: StaticTokenAuthenticator
  readonly #path: string
  readonly #options: TokenFileOptions

  private constructor(path: string, options: TokenFileOptions, first: StaticTokenAuthenticator) {
    this.#path = path
    this.#options = options
    this.#current = first
  }

  /** Loads the file once (a broken file at start-up is an error: there is nothing to keep). */
  static async open(path: string, options: TokenFileOptions = {}): Promise<ReloadingTokenFile> {
    return new ReloadingTokenFile(path, options, await loadTokenFile(path, options))
  }

  authenticate(token: string): Promise<Principal | undefined> {
    return this.#current.authenticate(token)
  }

  /** Re-reads the file; on failure the tokens in use stay. Never throws. */
  async reload(): Promise<ReloadResult> {
    try {
      this.#current = await loadTokenFile(this.#path, this.#options)
      return { ok: true, tokens: this.#current.size }
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : 'unknown error' }
    }
  }
}
