/**
 * When Keystone last answered (issue 14 item 1, for `/readyz`): a `fetch` that notes the time of
 * every answer Keystone gives to ActionTrail — token validations, service logins, the readiness
 * check's version request. An answer is any status below 500: a 5xx may come from a proxy in front
 * of a Keystone that is down, and says nothing about Keystone itself.
 */

/** Records Keystone's answers. */
export class KeystoneContact {
  /** The fetch to send every Keystone request through. */
  readonly fetch: typeof globalThis.fetch
  #answeredAt: number | undefined

  constructor(fetch: typeof globalThis.fetch, now: () => number) {
    this.fetch = async (input, init) => {
      const res = await fetch(input, init)
      if (res.status < 500) this.#answeredAt = now()
      return res
    }
  }

  /** When Keystone last answered (ms since the epoch), or undefined if it never has. */
  get answeredAt(): number | undefined {
    return this.#answeredAt
  }
}
