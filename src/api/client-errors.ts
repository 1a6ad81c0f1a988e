/**
 * Answers for requests Node's HTTP parser rejects before Fastify sees them: headers over the size
 * limit (431), a malformed request line, header or chunked body (400; 413 for chunk extensions
 * over Node's limit), a request that did not arrive in time (408). Fastify's `clientErrorHandler`
 * receives only the error and the socket, so the answer is written on the socket here, in the
 * format of the surface the request's path names (errorFormatOf, shared with the router's errors),
 * with a fixed message: nothing the client sent is echoed or logged. The connection is closed
 * after the answer — the parser cannot go on.
 *
 * The path comes from, in order: the request whose headers were parsed and whose body is still
 * arriving on the socket (a 408 or a broken chunked body); the request line at the start of the
 * bytes that failed, when it is complete and well-formed; otherwise nothing, and the root's
 * format — Nova's fault — is the documented default (also when the request line arrived in an
 * earlier TCP segment than the failure).
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import { AppError, type ErrorCode } from '../domain/errors.js'
import { FAULT_CONTENT_TYPE, faultBody } from './compute/faults.js'
import { appErrorAnswer, type ErrorAnswer } from './errors.js'
import { generateRequestId } from './plugins/request-id.js'
import { errorFormatOf, type ErrorFormat } from './router-errors.js'
import { V1_CONTENT_TYPE, v1ErrorBody } from './v1/error-body.js'

/** Node's error on a client connection: a parse error (`HPE_*`) or a request timeout. */
interface ConnectionError extends Error {
  code?: string
  /**
   * The bytes being parsed when the error occurred (a Buffer, though Fastify's types say
   * otherwise); read to find the path, never echoed.
   */
  rawPacket?: unknown
}

const ANSWERS: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  HPE_HEADER_OVERFLOW: {
    code: 'request_header_fields_too_large',
    message: 'Request header fields too large.',
  },
  // Node's limit on the extensions of one chunk of a chunked body (16 KiB); Node answers 413 too.
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    code: 'payload_too_large',
    message: 'Chunk extensions too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'request_timeout',
    message: 'The request was not received in time.',
  },
}
const MALFORMED = { code: 'invalid_input', message: 'Malformed HTTP request.' } as const

function answerOf(err: ConnectionError): ErrorAnswer {
  const { code, message } = (err.code !== undefined ? ANSWERS[err.code] : undefined) ?? MALFORMED
  return appErrorAnswer(new AppError(code, message))
}

// A complete, well-formed HTTP/1.x request line; the path is used to pick a format and nothing else.
const REQUEST_LINE = /^[A-Z]{1,16} (\/[\x21-\x7e]*) HTTP\/1\.[01]\r?\n/

function pathInPacket(packet: unknown): string | undefined {
  if (!Buffer.isBuffer(packet)) return undefined
  return REQUEST_LINE.exec(packet.subarray(0, 8192).toString('latin1'))?.[1]
}

/** The whole answer, status line to body, as it goes on the wire. */
function rawAnswer(answer: ErrorAnswer, format: ErrorFormat): string {
  const [type, body] =
    format === 'v1'
      ? [V1_CONTENT_TYPE, JSON.stringify(v1ErrorBody(answer))]
      : [FAULT_CONTENT_TYPE, JSON.stringify(faultBody(answer.status, answer.message))]
  const id = generateRequestId()
  return [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}`,
    `Content-Type: ${type}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-openstack-request-id: ${id}`,
    `x-compute-request-id: ${id}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n')
}

// Once the answer is flushed the socket is destroyed; if the client does not read it at all, the
// socket goes after this long anyway.
const CLOSE_GRACE_MS = 1000

/** The client-error answers of one app. */
export interface ClientErrorAnswers {
  /** Fastify's `clientErrorHandler` option. */
  handler: (err: ConnectionError, socket: Socket) => void
  /** Remembers, per socket, the last request Node handed on; call once with the app's server. */
  track: (server: Server) => void
}

/** The answers, logging a line (error code and status only) at debug level to `log`. */
export function clientErrorAnswers(log: FastifyBaseLogger): ClientErrorAnswers {
  // Weak: nothing outlives its socket.
  const lastResponse = new WeakMap<Socket, ServerResponse>()
  const answered = new WeakSet<Socket>()
  const track = (server: Server): void => {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      lastResponse.set(req.socket, res)
    })
  }
  const handler = (err: ConnectionError, socket: Socket): void => {
    // A reset connection has nobody to answer; a socket answered once only waits to be closed
    // (Node reports every later chunk on a failed parser again).
    if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) {
      if (err.code === 'ECONNRESET') socket.destroy()
      return
    }
    answered.add(socket)
    const answer = answerOf(err)
    log.debug({ code: err.code, status: answer.status }, 'client error')
    const res = lastResponse.get(socket)
    // An answer already under way cannot be replaced: the connection just ends.
    if (!socket.writable || (res && res.headersSent && !res.writableFinished)) {
      socket.destroy()
      return
    }
    const pending = res && !res.req.complete ? res.req.url : undefined
    const path = pending ?? pathInPacket(err.rawPacket)
    const format = path === undefined ? 'nova' : errorFormatOf(path.split('?')[0] ?? '/')
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS)
    timer.unref()
    socket.end(rawAnswer(answer, format), () => {
      clearTimeout(timer)
      socket.destroy()
    })
  }
  return { handler, track }
}
