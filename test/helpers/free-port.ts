/** A free loopback port for a test server started as a child process. */
import { createServer } from 'node:net'

/**
 * A port the OS just handed out on 127.0.0.1, at least 10100: Node's fetch refuses a list of
 * "bad ports" below that (e.g. 5060, 6000).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer()
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address()
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
      })
    })
    if (port >= 10100) return port
  }
}
