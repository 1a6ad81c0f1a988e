/**
 * A small closed-loop HTTP load generator for the benchmarks: N concurrent keep-alive clients,
 * each sending its next request only after the previous answer (like a recording service does).
 */
import http from 'node:http'

/** One request of a scripted client. */
export interface LoadRequest {
  method: string
  path: string
  body?: string
  contentType?: string
  headers?: Record<string, string>
}

/** Sends a request on a keep-alive agent; resolves with status and body text. */
export function send(
  agent: http.Agent,
  base: URL,
  r: LoadRequest,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: r.method,
        path: r.path,
        headers: {
          ...(r.body !== undefined
            ? {
                'content-type': r.contentType ?? 'application/json',
                'content-length': Buffer.byteLength(r.body),
              }
            : {}),
          ...r.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    if (r.body !== undefined) req.write(r.body)
    req.end()
  })
}

/** Result of a load run. */
export interface LoadResult {
  requests: number
  seconds: number
  failures: number
  /** Per-request latencies in milliseconds, sorted. */
  latencies: number[]
}

/**
 * Runs `clients` concurrent loops; `script(client, i)` gives a client's i-th request sequence
 * (a unit of work, e.g. one action with its events), or undefined when that client is done.
 */
export async function runLoad(
  baseUrl: string,
  clients: number,
  script: (client: number, unit: number) => LoadRequest[] | undefined,
  okStatus: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<LoadResult> {
  const base = new URL(baseUrl)
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
  let requests = 0
  let failures = 0
  const latencies: number[] = []
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let unit = 0; ; unit++) {
        const steps = script(client, unit)
        if (!steps) return
        for (const step of steps) {
          const t0 = process.hrtime.bigint()
          const res = await send(agent, base, step)
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
          requests++
          if (!okStatus(res.status)) {
            failures++
            if (failures <= 3)
              console.error(
                `request failed: ${step.method} ${step.path} → ${res.status} ${res.body.slice(0, 200)}`,
              )
          }
        }
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return { requests, seconds, failures, latencies }
}

/** The p-th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}
