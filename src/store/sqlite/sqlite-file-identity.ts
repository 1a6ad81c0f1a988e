/**
 * The identity (device and inode) of a SQLite database's files, so that a running server notices
 * when they are deleted or replaced under it. SQLite keeps writing to the file it opened: once the
 * path names another file, or none, every commit lands in an orphaned inode that the next process
 * will not see, so nothing committed from then on may be acknowledged.
 *
 * The main file's identity is recorded at open; the `-wal` and `-shm` files' when first seen
 * (SQLite creates them at the first transaction and removes them only when the last connection
 * closes, which is never while this connection is open). Once lost, always lost: only a restart
 * (after an operator restored the file) makes the store usable again.
 *
 * Cost, measured: a check is three stat calls, 12 µs on an idle machine and 56–66 µs on a loaded
 * 2-core one, against 5.8–6.7 ms for one durable single-write transaction measured alongside; the
 * write path checks twice per transaction (about 1–2 % for one-at-a-time writes, shared by every
 * write of a group commit), which keeps a write from even reaching a lost file.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs'
import { AppError } from '../../domain/errors.js'

/** Options of the identity check. */
export interface FileIdentityOptions {
  /** Told once, with a message for operators, when the files are found deleted or replaced. */
  onLost?: (message: string) => void
  /** How often the files are checked in the background (0: only when asked). */
  intervalMs?: number
}

/** How often the background check runs unless told: three stat calls, ~12 µs, per second. */
export const FILE_CHECK_INTERVAL_MS = 1000

const SUFFIXES = ['', '-wal', '-shm'] as const

type Identity = { dev: bigint; ino: bigint }

/** Watches the identity of one database's files. */
export class SqliteFileIdentity {
  readonly #path: string
  readonly #onLost: ((message: string) => void) | undefined
  readonly #known = new Map<string, Identity>()
  readonly #timer: NodeJS.Timeout | undefined
  #lost: string | undefined

  /** Records the main file's identity; `path` must be absolute (the process may change directory). */
  constructor(
    path: string,
    { onLost, intervalMs = FILE_CHECK_INTERVAL_MS }: FileIdentityOptions = {},
  ) {
    this.#path = path
    this.#onLost = onLost
    this.#see()
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.#see(), intervalMs)
      // The check never keeps a process alive that has nothing else to do.
      this.#timer.unref()
    }
  }

  /**
   * Checks now (three stat calls) and throws `store_unavailable` when the files were deleted or
   * replaced: called before and after each write transaction (a write is acknowledged only if its
   * file is still there after the commit) and by readiness probes.
   */
  assertIntact(): void {
    const lost = this.#see()
    if (lost !== undefined) throw new AppError('store_unavailable', lost)
  }

  /**
   * This connection left WAL mode itself (an offline load: sqlite-offline-load.ts), which removes
   * the `-wal` and `-shm` files: they are forgotten, and recorded again when they reappear.
   */
  forgetWalFiles(): void {
    this.#known.delete('-wal')
    this.#known.delete('-shm')
  }

  /** Stops the background check (when the database is closed). */
  stop(): void {
    clearInterval(this.#timer)
  }

  #see(): string | undefined {
    if (this.#lost !== undefined) return this.#lost
    for (const suffix of SUFFIXES) {
      const known = this.#known.get(suffix)
      const seen = identityOf(this.#path + suffix)
      const name = suffix === '' ? 'the database file' : `its ${suffix} file`
      if (typeof seen === 'string') {
        // The directory became unreadable, or similar: what cannot be checked is not trusted.
        if (known) this.#lose(`${name} could not be checked (${seen})`)
      } else if (seen && !known) this.#known.set(suffix, seen)
      else if (known && (!seen || seen.dev !== known.dev || seen.ino !== known.ino)) {
        this.#lose(`${name} was ${seen ? 'replaced' : 'deleted'}`)
      }
      if (this.#lost !== undefined) break
    }
    return this.#lost
  }

  #lose(what: string): void {
    const fds = orphanedDescriptors(this.#path)
    this.#lost =
      `SQLite database lost: ${what} while the server was running. Writes are refused (503) ` +
      'from now on, since they would land in a file no other process sees; restore the file and ' +
      'restart.' +
      (fds.length > 0
        ? ` Until this process exits, the data it still has open can be copied from file ` +
          `descriptor(s) ${fds.join(', ')} of process ${process.pid} (procfs).`
        : '')
    try {
      this.#onLost?.(this.#lost)
    } catch {
      // Telling is best effort; the writes are refused either way.
    }
  }
}

// The file's identity; undefined when there is no file (also when a directory on its path is
// gone or became a file), or the error code when it cannot be checked. Never throws: it runs from
// a timer, where a throw would end the process.
function identityOf(file: string): Identity | string | undefined {
  try {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false })
    return st && { dev: st.dev, ino: st.ino }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    return code === 'ENOTDIR' ? undefined : typeof code === 'string' ? code : 'error'
  }
}

// This process's descriptors of the database's deleted files: where an operator can still copy the
// data from (Linux procfs; elsewhere none are named). Paths stay out of the message (and logs).
function orphanedDescriptors(path: string): string[] {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        const target = readlinkSync(`/proc/self/fd/${fd}`)
        return target.startsWith(path) && target.endsWith(' (deleted)')
      } catch {
        return false
      }
    })
  } catch {
    return []
  }
}
