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

// CommonJS, run with `node -e`: argv[1] is better-sqlite3's entry, argv[2] the database file.
// Prints `locked` once the write lock is held; any line on stdin rolls back, closes and exits.
const HOLDER = `
const Database = require(process.argv[1])
const db = new Database(process.argv[2])
db.exec('BEGIN IMMEDIATE')
process.stdout.write('locked\\n')
process.stdin.once('data', () => {
  db.exec('ROLLBACK')
  db.close()
  process.stdout.write('released\\n')
})
`

/** A child process holding the write lock of a database file until released. */
export interface LockHolder {
  /** Rolls back the holder's transaction; resolves once the lock is free and the child exited. */
  release(): Promise<void>
}

/** Starts a child process that holds `file`'s write lock; resolves once it holds it. */
export async function holdWriteLock(file: string): Promise<LockHolder> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const child: ChildProcess = spawn(process.execPath, ['-e', HOLDER, driver, file], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
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
        const exited = once(child, 'exit')
        child.stdin!.end('release\n')
        const next = await lines.next()
        if (next.value !== 'released') throw new Error('lock holder did not release')
        await exited
      })()
      return released
    },
  }
}
