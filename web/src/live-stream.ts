/**
 * Live updates from `GET /v1/stream`. `EventSource` cannot send the `X-Auth-Token` header, so the
 * stream is read with fetch and parsed by eventsource-parser. A dropped connection is reopened
 * after a short, growing pause with `Last-Event-ID` set to the last message's id: the server
 * resumes exactly after it, so nothing is missed or repeated, and the status line says so.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { errorOf } from './api.js'
import { sessionToken } from './session.js'

/** What the status line shows. */
export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'live' }
  | { state: 'resumed'; after: string }
  | { state: 'reconnecting'; inMs: number }
  | { state: 'stopped'; message: string }

/** A message of the stream: its kind (`action`, `event`) and parsed data. */
export interface StreamMessage {
  kind: string
  data: unknown
}

/** What a stream reports to its view. */
export interface StreamHandlers {
  message(message: StreamMessage): void
  status(status: StreamStatus): void
  /** The token was refused (401): the view asks to sign in again. */
  unauthorized(): void
}

const MAX_PAUSE_MS = 10_000

/** One followed stream; `stop()` ends it for good. */
export class LiveStream {
  readonly #params: URLSearchParams
  readonly #handlers: StreamHandlers
  readonly #abort = new AbortController()
  #lastId: string | undefined
  #failures = 0
  #dropped = false

  constructor(params: URLSearchParams, handlers: StreamHandlers) {
    this.#params = params
    this.#handlers = handlers
    void this.#run()
  }

  /** Ends the stream (the view is left). */
  stop(): void {
    this.#abort.abort()
  }

  /** The id of the last message received (where a reconnection resumes). */
  get lastEventId(): string | undefined {
    return this.#lastId
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    while (!signal.aborted) {
      try {
        await this.#readOnce(signal)
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof StopStream) {
          if (err.unauthorized) this.#handlers.unauthorized()
          else this.#handlers.status({ state: 'stopped', message: err.message })
          return
        }
      }
      if (signal.aborted) return
      // The connection ended or failed: wait, then resume from the last position.
      this.#dropped = true
      this.#failures += 1
      const pause = Math.min(MAX_PAUSE_MS, 500 * 2 ** Math.min(this.#failures - 1, 5))
      this.#handlers.status({ state: 'reconnecting', inMs: pause })
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  async #readOnce(signal: AbortSignal): Promise<void> {
    const token = sessionToken()
    if (!token) throw new StopStream('Signed out.', true)
    const headers: Record<string, string> = { 'x-auth-token': token, accept: 'text/event-stream' }
    if (this.#lastId !== undefined) headers['last-event-id'] = this.#lastId
    this.#handlers.status({ state: 'connecting' })
    const query = this.#params.toString()
    const res = await fetch(`/v1/stream${query ? `?${query}` : ''}`, {
      headers,
      signal,
      cache: 'no-store',
    })
    if (res.status === 401) throw new StopStream('Signed out.', true)
    // A refusal that a retry cannot change (403, 400) stops; 503 (too many streams) is retried.
    if (!res.ok && res.status !== 503 && res.status < 500)
      throw new StopStream((await errorOf(res)).message)
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`)
    const parser = createParser({
      onEvent: (event: EventSourceMessage) => this.#deliver(event),
      onComment: (comment: string) => {
        // `: ready`: the subscription is registered, every later change will come.
        if (comment.trim() !== 'ready') return
        this.#failures = 0
        if (this.#dropped && this.#lastId !== undefined)
          this.#handlers.status({ state: 'resumed', after: this.#lastId })
        else this.#handlers.status({ state: 'live' })
      },
    })
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      parser.feed(value)
    }
  }

  #deliver(event: EventSourceMessage): void {
    if (event.event === 'overflow' || event.event === 'shutdown') {
      // The server closes after this (too slow a reader, or the server stopping); resume after the
      // position it names.
      const after = (JSON.parse(event.data) as { resume_after?: unknown }).resume_after
      if (typeof after === 'string') this.#lastId = after
      return
    }
    if (event.id !== undefined) this.#lastId = event.id
    let data: unknown
    try {
      data = JSON.parse(event.data)
    } catch {
      return
    }
    this.#handlers.message({ kind: event.event ?? 'message', data })
  }
}

/** Ends the stream's loop: a refusal no retry can change. */
class StopStream extends Error {
  constructor(
    message: string,
    readonly unauthorized = false,
  ) {
    super(message)
  }
}
