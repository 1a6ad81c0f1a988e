/** Starts a server script in a child process (its own core) and waits for its URL. */
import { spawn, type ChildProcess } from 'node:child_process'

/** A running child server. */
export interface ChildServer {
  url: string
  /** The child's process id (its memory is read from /proc by bench:freeze). */
  pid: number
  stop(): Promise<void>
}

/** Spawns `node <args>` and resolves when it prints `listening on http://…`. */
export function startChildServer(
  args: string[],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8')
      const m = /listening on (http:\/\/[^\s]+)/.exec(output)
      if (m?.[1]) {
        child.stdout?.off('data', onData)
        resolve({
          url: m[1],
          pid: child.pid ?? 0,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done())
              child.kill('SIGTERM')
            }),
        })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (d: Buffer) => (output += d.toString('utf8')))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)))
  })
}
