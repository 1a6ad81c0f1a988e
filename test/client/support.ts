/**
 * Support for the client suites: the real ActionTrail app listening on a loopback port, clients
 * for it, and a fault injector — a small real HTTP server placed in front of ActionTrail that
 * fails chosen requests (503, reset connection, no answer, a rewritten answer) and passes the
 * others through unchanged, recording everything it saw. It is not a stand-in for ActionTrail:
 * every request it lets through is answered by the real server.
 */
import assert from 'node:assert/strict'
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { ActionTrailClient, type ActionTrailClientOptions } from '../../src/client/index.js'
import {
  buildHarness,
  PROJECT_A,
  TOKENS,
  USER_A,
  type Harness,
  type HarnessOptions,
} from '../helpers/build-app.js'

/** An instance of project A used by the suites. */
export const VM = '6a1f0c3e-52b4-4c8d-9e7f-0a1b2c3d4e5f'

/** A request context of project A. */
export const CTX = {
  requestId: 'req-7c0d6a52-1e3b-4f9a-8d2c-5b6e7f8a9b0c',
  userId: USER_A,
  projectId: PROJECT_A,
}

/** The real app, listening on 127.0.0.1 (closed by the harness after the test). */
export interface LiveServer {
  h: Harness
  baseUrl: string
}

/** Builds the real app over an in-memory store and starts it on a free loopback port. */
export async function startActionTrail(
  t: TestContext,
  options: HarnessOptions = {},
): Promise<LiveServer> {
  const h = await buildHarness(t, ':memory:', options)
  await h.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = h.app.server.address() as AddressInfo
  return { h, baseUrl: `http://127.0.0.1:${port}` }
}

/** A client with the service token of project A; short backoff so that retry tests stay quick. */
export function serviceClient(
  baseUrl: string,
  options: Partial<ActionTrailClientOptions> = {},
): ActionTrailClient {
  return new ActionTrailClient({
    baseUrl,
    token: TOKENS.serviceA,
    retries: 3,
    backoffMs: 5,
    timeoutMs: 5000,
    ...options,
  })
}

/** A client with the admin token, for reading back what was written (events with details at 2.84). */
export function adminClient(baseUrl: string): ActionTrailClient {
  return new ActionTrailClient({ baseUrl, token: TOKENS.admin, retries: 0 })
}

/** Registers VM in project A through the local service (the writes under test come after). */
export async function seedVm(h: Harness): Promise<void> {
  await h.service.putInstance({ uuid: VM, name: 'vm-1', projectId: PROJECT_A, userId: USER_A })
}

/** One request as the injector received it. */
export interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * What the injector does with a request: pass it through, answer 503, destroy the connection
 * before answering, pass it through but destroy the connection instead of returning the answer
 * (the write happened, the answer is lost), never answer, or pass it through and rewrite the
 * answer's JSON body.
 */
export type Fault =
  | 'pass'
  | '503'
  | 'reset'
  | 'pass-then-reset'
  | 'hang'
  | { status: number; body: unknown }
  | { rewrite: (status: number, body: unknown) => { status: number; body: unknown } }

/** A running fault injector. */
export interface Injector {
  /** Base URL to give the client. */
  url: string
  /** Every request received, in arrival order. */
  seen: SeenRequest[]
  /** The most requests that were being handled at the same time. */
  maxConcurrent: () => number
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

interface Forwarded {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

function forward(target: string, seen: SeenRequest): Promise<Forwarded> {
  const headers = { ...seen.headers }
  // Hop-by-hop: the injector keeps its own connection to the target.
  delete headers.connection
  delete headers['keep-alive']
  delete headers['transfer-encoding']
  headers['content-length'] = String(Buffer.byteLength(seen.body, 'utf8'))
  return new Promise((resolve, reject) => {
    const out = httpRequest(`${target}${seen.url}`, { method: seen.method, headers }, (res) => {
      readBody(res).then(
        (body) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body }),
        reject,
      )
    })
    out.on('error', reject)
    out.end(seen.body)
  })
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: IncomingHttpHeaders = {},
): void {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (
      v !== undefined &&
      !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(k)
    )
      out[k] = v
  }
  out['content-type'] ??= 'application/json; charset=utf-8'
  out['content-length'] = String(Buffer.byteLength(body, 'utf8'))
  res.writeHead(status, out)
  res.end(body)
}

/**
 * Starts a fault injector in front of `target`. `plan(n, request)` chooses the fault of the n-th
 * request (0-based); `delayMs` holds each request that long before handling it.
 */
export async function startInjector(
  t: TestContext,
  target: string,
  plan: (n: number, request: SeenRequest) => Fault = () => 'pass',
  options: { delayMs?: number } = {},
): Promise<Injector> {
  const seen: SeenRequest[] = []
  let concurrent = 0
  let maxConcurrent = 0
  const server = createServer((req, res) => {
    concurrent += 1
    maxConcurrent = Math.max(maxConcurrent, concurrent)
    res.on('close', () => {
      concurrent -= 1
    })
    void (async () => {
      const body = await readBody(req)
      const request: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
      }
      const n = seen.push(request) - 1
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
      const fault = plan(n, request)
      if (fault === 'hang') return
      if (fault === 'reset') return req.socket.destroy()
      if (fault === '503') {
        return send(
          res,
          503,
          JSON.stringify({
            error: {
              status: 503,
              code: 'store_unavailable',
              message: 'The service is unavailable.',
            },
          }),
        )
      }
      if (typeof fault === 'object' && 'status' in fault)
        return send(res, fault.status, JSON.stringify(fault.body))
      const answer = await forward(target, request)
      if (fault === 'pass-then-reset') return req.socket.destroy()
      if (fault === 'pass') return send(res, answer.status, answer.body, answer.headers)
      const rewritten = fault.rewrite(answer.status, JSON.parse(answer.body) as unknown)
      return send(res, rewritten.status, JSON.stringify(rewritten.body), answer.headers)
    })().catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    // Hanging requests and idle keep-alive connections would keep close() waiting.
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, seen, maxConcurrent: () => maxConcurrent }
}

/** The JSON body of a request the injector saw. */
export function jsonBody(request: SeenRequest | undefined): unknown {
  assert.ok(request, 'request was seen')
  return JSON.parse(request.body) as unknown
}

/** The operations of a `/v1/batch` request the injector saw (JSON array or NDJSON). */
export function batchOps(request: SeenRequest): Record<string, unknown>[] {
  const type = String(request.headers['content-type'] ?? '')
  if (type.startsWith('application/x-ndjson')) {
    return request.body
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }
  return JSON.parse(request.body) as Record<string, unknown>[]
}

/** Batch requests the injector saw, each as its list of operations. */
export function batches(injector: Injector): Record<string, unknown>[][] {
  return injector.seen.filter((r) => r.url === '/v1/batch').map(batchOps)
}
