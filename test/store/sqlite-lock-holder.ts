/**
 * Another process holding a SQLite database's write lock: a child Node process opens the file with
 * its own better-sqlite3 handle and runs `BEGIN IMMEDIATE`, as a backup tool or a second writer
 * would. A real process (not a second handle in the test's thread) so that its lock is held while
 * the test's event loop keeps running, and so that nothing in-process is shared with the server.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

// CommonJS, run with `node -e`: argv[1] is better-sqlite3's entry, argv[2] the database file,
// argv[3] milliseconds after which to release by itself (0: never). Prints `locked` once the write
// lock is held; a line on stdin (or the timer) rolls back, closes and exits.
const HOLDER = `
const Database = require(process.argv[1])
const db = new Database(process.argv[2])
db.exec('BEGIN IMMEDIATE')
process.stdout.write('locked\\n')
const release = () => {
  if (!db.open) return
  db.exec('ROLLBACK')
  db.close()
  process.stdout.write('released\\n')
  process.stdin.destroy()
}
process.stdin.once('data', release)
if (Number(process.argv[3]) > 0) setTimeout(release, Number(process.argv[3]))
`

/** A child process holding the write lock of a database file until released. */
export interface LockHolder {
  /** Rolls back the holder's transaction; resolves once the lock is free and the child exited. */
  release(): Promise<void>
}

/**
 * Starts a child process that holds `file`'s write lock; resolves once it holds it. With
 * `releaseAfterMs`, the child releases it by itself after that long (for a test whose own thread
 * is blocked meanwhile).
 */
export async function holdWriteLock(file: string, releaseAfterMs = 0): Promise<LockHolder> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const args = ['-e', HOLDER, driver, file, String(releaseAfterMs)]
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  // Settles when the child has gone, however (the promise is created before anything can end it).
  const exited = once(child, 'exit')
  // A child that released by itself has closed its stdin: a late `release` line meets EPIPE.
  child.stdin!.on('error', () => undefined)
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const first = await lines.next()
  if (first.value !== 'locked') {
    child.kill()
    throw new Error(`lock holder did not start (${String(first.value)})`)
  }
  let released: Promise<void> | undefined
  return {
    release() {
      released ??= (async () => {
        if (child.exitCode === null) child.stdin!.end('release\n')
        await exited
        if (child.exitCode !== 0) throw new Error(`lock holder exited with ${child.exitCode}`)
      })()
      return released
    },
  }
}
