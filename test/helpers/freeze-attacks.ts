/**
 * The "one request freezes the server" attacks of issue 9 and the probe that measures them, shared
 * by test/security/freeze.test.ts and `npm run bench:freeze`: a closed-loop `GET /` prober (the
 * public version document, the cheapest answer the server has, so its latency is the event loop's
 * availability), the attack requests, and the server process's resident memory from /proc.
 */
import http from 'node:http'
import { readFileSync } from 'node:fs'

/** Latencies of a probe run, in milliseconds, in the order they were measured. */
export interface ProbeResult {
  latencies: number[]
  /** Probes that got no 200 (connection error or other status). */
  failures: number
}

/** A running prober: `stop()` ends it after the probe in flight and returns what it measured. */
export interface Probe {
  stop(): Promise<ProbeResult>
}

/**
 * Sends `GET /` to `baseUrl` one at a time on its own keep-alive connection, pausing `pauseMs`
 * between probes, until stopped. A frozen event loop shows as one probe that waits the whole
 * freeze, so the maximum is the longest time any other client was kept waiting.
 */
export function startProbe(baseUrl: string, pauseMs = 5): Probe {
  const base = new URL(baseUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const latencies: number[] = []
  let failures = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const t0 = process.hrtime.bigint()
      const status = await get(agent, base).catch(() => 0)
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
      if (status !== 200) failures++
      await new Promise((r) => setTimeout(r, pauseMs))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      agent.destroy()
      return { latencies, failures }
    },
  }
}

function get(agent: http.Agent, base: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, host: base.hostname, port: base.port, path: '/' }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

/** Runs the probe for `ms` milliseconds with nothing else going on. */
export async function probeIdle(baseUrl: string, ms: number): Promise<ProbeResult> {
  const probe = startProbe(baseUrl)
  await new Promise((r) => setTimeout(r, ms))
  return probe.stop()
}

/** The p-th percentile (0–100) of values (any order). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

/** The answer to an attack request; `status` 0 when the connection failed before any answer. */
export interface AttackAnswer {
  status: number
  body: string
}

/** What an attack request sends: headers and a body produced chunk by chunk (never held whole). */
export interface StreamedRequest {
  method: string
  path: string
  headers: Record<string, string>
  /** The body's chunks, in order; with no content-length header the body is sent chunked. */
  chunks: () => Iterable<Buffer>
}

/**
 * Sends a request, writing its body with backpressure, and resolves with the answer. A server
 * that answers before the body is sent (a 413) and closes the connection ends the upload; the
 * answer still counts, and the write error that follows is expected.
 */
export function sendStreamed(baseUrl: string, r: StreamedRequest): Promise<AttackAnswer> {
  const base = new URL(baseUrl)
  return new Promise((resolve) => {
    let settled = false
    const settle = (a: AttackAnswer) => {
      if (!settled) {
        settled = true
        resolve(a)
      }
    }
    const req = http.request(
      { host: base.hostname, port: base.port, method: r.method, path: r.path, headers: r.headers },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (c: Buffer) => parts.push(c))
        const done = () =>
          settle({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') })
        res.on('end', done)
        res.on('close', done)
      },
    )
    req.on('error', () => {
      // After an answer this is the upload being cut; before one, the attack got no answer.
      setTimeout(() => settle({ status: 0, body: '' }), 100)
    })
    void (async () => {
      for (const chunk of r.chunks()) {
        if (req.destroyed || settled) return
        if (!req.write(chunk)) {
          await new Promise<void>((ok) => {
            const go = () => {
              req.off('drain', go)
              req.off('close', go)
              ok()
            }
            req.on('drain', go)
            req.on('close', go)
          })
        }
      }
      if (!req.destroyed) req.end()
    })()
  })
}

const MiB = 1024 * 1024

/**
 * The batch of the issue: a JSON array of `{}` of `bytes` bytes (64 MiB by default: about 22
 * million operations), sent chunked so that the server cannot refuse it by its Content-Length and
 * has to count the operations.
 */
export function emptyObjectsBatch(token: string, bytes = 64 * MiB): StreamedRequest {
  const unit = '{},'
  const piece = Buffer.from(unit.repeat((64 * 1024) / 4))
  return {
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    *chunks() {
      yield Buffer.from('[')
      let sent = 1
      while (sent + piece.length + 3 <= bytes) {
        yield piece
        sent += piece.length
      }
      yield Buffer.from('{}]')
    },
  }
}

/**
 * The traceback that keeps the sanitizer busiest per byte, measured over its pathological-input
 * rows (src/security/sanitize-traceback.test.ts) on 2026-12-06: URL user info with blanks
 * (`x://u:p x://u:p …`) costs about 0.9 s per MiB, ahead of NFKC-expanding ligatures and
 * same-named directories (0.8–0.9 s) — every `x://` opens a credential scan that looks ahead a
 * bounded 128 characters for an `@`. `chars` characters of it, ASCII, so as many bytes.
 */
export function adversarialTraceback(chars: number): string {
  const unit = 'x://u:p '
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars)
}

/** The demo instance the attacks write their failures to. */
export const ATTACK_INSTANCE = '0f0f0f0f-0000-4000-8000-00000000f00d'

/** A request with its whole body built now, so that sending it later costs the sender nothing. */
export function jsonRequest(
  method: string,
  path: string,
  token: string,
  body: unknown,
  contentType = 'application/json',
): StreamedRequest {
  const data = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
  return {
    method,
    path,
    headers: {
      'content-type': contentType,
      'content-length': String(data.length),
      'x-auth-token': token,
    },
    chunks: () => [data],
  }
}

/** Sends a buffered JSON request (the set-up writes). */
export function sendJson(
  baseUrl: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  contentType = 'application/json',
): Promise<AttackAnswer> {
  return sendStreamed(baseUrl, jsonRequest(method, path, token, body, contentType))
}

/**
 * Creates the attack's instance, one action and `events` started events, so that each
 * adversarial finish is a real write answered 200.
 */
export async function prepareFailures(baseUrl: string, token: string, events: number) {
  const lines = [
    {
      op: 'instance_put',
      instance_uuid: ATTACK_INSTANCE,
      name: 'attacked',
      project_id: 'p',
      user_id: 'u',
    },
    {
      op: 'action_start',
      instance_uuid: ATTACK_INSTANCE,
      action: 'reboot',
      request_id: 'req-freeze',
      user_id: 'u',
      project_id: 'p',
    },
    ...Array.from({ length: events }, (_, i) => ({
      op: 'event_start',
      instance_uuid: ATTACK_INSTANCE,
      request_id: 'req-freeze',
      event: `e${i}`,
    })),
  ]
  const body = lines.map((l) => JSON.stringify(l)).join('\n')
  const res = await sendJson(baseUrl, 'POST', '/v1/batch', token, body, 'application/x-ndjson')
  if (res.status !== 200) throw new Error(`set-up batch failed: ${res.status} ${res.body}`)
}

/**
 * One event finish with an adversarial traceback of `chars` characters through the single
 * endpoint (the route a compute service uses), built in advance: the prober shares this
 * process, so building megabytes of JSON during the attack would be measured as server latency.
 */
export function adversarialFinish(token: string, event: number, chars: number): StreamedRequest {
  return jsonRequest(
    'POST',
    `/v1/instances/${ATTACK_INSTANCE}/actions/req-freeze/events/e${event}/finish`,
    token,
    {
      result: 'Error',
      details: adversarialTraceback(1000),
      traceback: adversarialTraceback(chars),
    },
  )
}

/**
 * The resident set of a process and its peak, in bytes, from /proc (Linux); undefined elsewhere.
 * The peak (VmHWM) catches a spike that is gone by the time the attack is answered.
 */
export function residentMemory(pid: number): { rss: number; peak: number } | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
  const rss = kib('VmRSS')
  const peak = kib('VmHWM')
  if (!Number.isFinite(rss) || !Number.isFinite(peak)) return undefined
  return { rss: rss * 1024, peak: peak * 1024 }
}
