/**
 * A Server-Sent Events client for the stream suites: a real HTTP connection (streams cannot be
 * injected), messages parsed with eventsource-parser, and waits on what has arrived.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import { createParser } from 'eventsource-parser'

/** One message as received. */
export interface SseMessage {
  id: string | undefined
  event: string | undefined
  data: string
}

/** An open stream. */
export class SseClient {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  /** Every message received so far. */
  readonly messages: SseMessage[] = []
  /** Every comment received so far (`ready`, `heartbeat`). */
  readonly comments: string[] = []
  /** The body of a non-200 answer. */
  body = ''
  #ended = false
  readonly #res: IncomingMessage
  readonly #waiters = new Set<() => void>()

  private constructor(res: IncomingMessage) {
    this.#res = res
    this.status = res.statusCode ?? 0
    this.headers = res.headers
    const parser = createParser({
      onEvent: (e) => {
        this.messages.push({ id: e.id, event: e.event, data: e.data })
        this.#notify()
      },
      onComment: (c) => {
        this.comments.push(c.trim())
        this.#notify()
      },
    })
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      if (this.status === 200) parser.feed(chunk)
      else this.body += chunk
    })
    const end = () => {
      this.#ended = true
      this.#notify()
    }
    res.on('end', end)
    res.on('close', end)
    res.on('error', end)
  }

  /** Opens `url` (a /v1/stream URL) with these headers; resolves once the status line is in. */
  static open(url: string, headers: Record<string, string>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) =>
        resolve(new SseClient(res)),
      )
      req.on('error', reject)
      req.end()
    })
  }

  /** Opens a stream and waits for `: ready` (a 200 is expected). */
  static async ready(url: string, headers: Record<string, string>): Promise<SseClient> {
    const c = await SseClient.open(url, headers)
    if (c.status !== 200) throw new Error(`stream answered ${c.status}`)
    await c.until(() => c.comments.includes('ready'), 'ready')
    return c
  }

  /** Whether the server ended the stream. */
  get ended(): boolean {
    return this.#ended
  }

  /** The parsed `data` of the messages of kind `event` (all when absent). */
  data(event?: string): Record<string, unknown>[] {
    return this.messages
      .filter((m) => event === undefined || m.event === event)
      .map((m) => JSON.parse(m.data) as Record<string, unknown>)
  }

  /** Resolves when `check` holds (checked on every arrival); rejects after `timeoutMs`. */
  until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (check()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`timed out waiting for ${what}; got ${this.messages.length} messages`))
      }, timeoutMs)
      const waiter = () => {
        if (!check()) return
        clearTimeout(timer)
        this.#waiters.delete(waiter)
        resolve()
      }
      this.#waiters.add(waiter)
    })
  }

  /** Resolves when the server has ended the stream. */
  closed(timeoutMs = 20_000): Promise<void> {
    return this.until(() => this.#ended, 'the end of the stream', timeoutMs)
  }

  /** Stops reading (the socket's buffers fill up, as with a slow consumer). */
  pause(): void {
    this.#res.pause()
  }

  /** Reads again. */
  resume(): void {
    this.#res.resume()
  }

  /** Closes the connection from the client's side. */
  close(): void {
    this.#res.destroy()
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w()
  }
}
