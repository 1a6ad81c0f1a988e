/**
 * HTTP/1.1 over a real socket, for what `app.inject` cannot show: timeouts, connection caps,
 * connections the server closes, and requests too malformed for any HTTP client to send.
 */
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** One parsed HTTP response. */
export interface RawResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: string
}

/** A client connection that records everything the server sends and when it closes. */
export interface RawConnection {
  socket: Socket
  /** Everything received so far, as Latin-1 text. */
  received(): string
  /** True once the server ended or reset the connection. */
  isClosed(): boolean
  /** Writes unless the connection is closed; false when it was. */
  write(text: string): boolean
  /** Resolves true when the connection closes within `ms`, false otherwise. */
  closedWithin(ms: number): Promise<boolean>
  /** The first complete response (by Content-Length), waiting up to `ms`; undefined if none. */
  response(ms?: number): Promise<RawResponse | undefined>
}

/** Opens a connection to 127.0.0.1:`port`; resolves once connected (or already closed). */
export async function openRaw(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1')
  let data = ''
  let closed = false
  const closedPromise = new Promise<void>((resolve) => {
    socket.on('close', () => {
      closed = true
      resolve()
    })
  })
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')))
  // A refused or reset connection is an outcome the tests assert, not a failure of the helper.
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve())
    socket.once('close', () => resolve())
  })
  return {
    socket,
    received: () => data,
    isClosed: () => closed,
    write(text) {
      if (closed || socket.destroyed || !socket.writable) return false
      socket.write(text, 'latin1')
      return true
    },
    async closedWithin(ms) {
      return Promise.race([closedPromise.then(() => true), sleep(ms).then(() => false)])
    },
    async response(ms = 15_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const parsed = parseResponse(data)
        if (parsed || closed || Date.now() > deadline) return parsed
        await sleep(10)
      }
    },
  }
}

/** The first complete response in `text`, or undefined while it is incomplete. */
export function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  const length = Number(headers['content-length'] ?? 0)
  const bodyBytes = Buffer.from(text.slice(end + 4), 'latin1')
  if (bodyBytes.length < length) return undefined
  return {
    status: Number(m[1]),
    headers,
    body: bodyBytes.subarray(0, length).toString('utf8'),
  }
}

/** Writes `text` one byte every `intervalMs` until the connection closes or `stop()` is called. */
export function drip(
  conn: RawConnection,
  text: string,
  intervalMs: number,
): { stop: () => void; sent: () => number } {
  let sent = 0
  const timer = setInterval(() => {
    if (sent >= text.length || !conn.write(text[sent] ?? '')) clearInterval(timer)
    else sent += 1
  }, intervalMs)
  return { stop: () => clearInterval(timer), sent: () => sent }
}
