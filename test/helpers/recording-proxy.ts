/**
 * A pass-through HTTP proxy in front of a test server that records, per request, the
 * X-Auth-Token it carried and the status answered: what a test needs to check which token a
 * client really sent (and to revoke it at Keystone) without a mock. Test-only: it holds tokens.
 */
import { createServer, request, type Server } from 'node:http'

/** One request that went through. */
export interface ProxiedRequest {
  token: string | undefined
  status: number
}

/** A running recording proxy. */
export interface RecordingProxy {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** Every request answered so far, in order. */
  seen: ProxiedRequest[]
  close(): Promise<void>
}

/** Starts a proxy on a free loopback port forwarding to `target` (`http://host:port`). */
export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target)
  const seen: ProxiedRequest[] = []
  const server: Server = createServer((req, res) => {
    const token = req.headers['x-auth-token']
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (answer) => {
        seen.push({
          token: typeof token === 'string' ? token : undefined,
          status: answer.statusCode ?? 0,
        })
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
