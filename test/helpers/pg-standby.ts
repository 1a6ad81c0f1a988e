/**
 * A real PostgreSQL 15 primary with a streaming hot standby (`pg_basebackup -R`) in a temporary
 * directory on 127.0.0.1, for the fault tests: two postmasters on free ports, started and stopped
 * by pid with the server's own binaries (never pg_ctlcluster or a system service). Setup takes
 * about 2 s. PostgreSQL refuses to run as root, so as root every command runs as the `postgres`
 * user (runuser), and the directory is made in the system temp folder, which it can traverse.
 */
import { execFile } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { TestContext } from 'node:test'
import pg from 'pg'
import { freePort } from './free-port.js'
import { REQUIRE_BACKENDS } from './backends.js'

const run = promisify(execFile)

/** Where Debian's PostgreSQL 15 binaries are (`apt-get install postgresql-15`). */
export const PG_BIN = process.env.ACTIONTRAIL_TEST_PG_BIN || '/usr/lib/postgresql/15/bin'

const DATABASE = 'actiontrail'
const STANDBY_NAME = 'standby1'

/** Options of startPgStandby. */
export interface PgStandbyOptions {
  /**
   * Synchronous replication: `synchronous_standby_names` names the standby and
   * `synchronous_commit = remote_apply`, so a commit returns only once the standby applied it.
   * Switched on once the standby streams: set before, every commit (even CREATE DATABASE) waits.
   */
  sync?: boolean
}

/** A running primary + standby pair. */
export interface PgStandby {
  /** Superuser URLs of the `actiontrail` database on each node. */
  primaryUrl: string
  standbyUrl: string
  /** Stops the standby (fast shutdown) and waits for it to be gone. */
  stopStandby(): Promise<void>
  /** Starts the stopped standby again (it resumes streaming from its slot). */
  startStandby(): Promise<void>
  /** SIGKILLs the primary's postmaster (a crash: no shutdown checkpoint, nothing flushed). */
  killPrimary(): Promise<void>
  /** Promotes the standby to a primary (after the primary died) and waits until it takes writes. */
  promote(): Promise<void>
  /** Runs one statement on a node as superuser (e.g. `select pg_wal_replay_pause()`). */
  query(node: 'primary' | 'standby', text: string): Promise<pg.QueryResult>
  /** Stops both nodes and removes the directory (also run at the end of the test). */
  stop(): Promise<void>
}

/**
 * Why a primary + standby cannot be started here (missing binaries), or undefined. The test skips
 * with a loud warning, or fails with ACTIONTRAIL_REQUIRE_BACKENDS=1.
 */
export function pgStandbyUnavailable(): string | undefined {
  for (const bin of ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'])
    if (!existsSync(join(PG_BIN, bin)))
      return `${join(PG_BIN, bin)} is missing (apt-get install postgresql-15)`
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser'))
    return 'running as root without runuser'
  return undefined
}

/** Skips the test loudly when the binaries are missing (fails instead when backends are required). */
export function skipWithoutPgStandby(t: TestContext): boolean {
  const why = pgStandbyUnavailable()
  if (why === undefined) return false
  const message = `PostgreSQL primary + standby unavailable: ${why}`
  if (REQUIRE_BACKENDS) throw new Error(`${message} (ACTIONTRAIL_REQUIRE_BACKENDS=1)`)
  console.warn(`WARNING: ${message}; skipping`)
  t.skip(message)
  return true
}

const asRoot = process.getuid?.() === 0

/** Runs a PostgreSQL binary, as the `postgres` user when this process is root. */
async function pgRun(bin: string, args: string[]): Promise<string> {
  const [file, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]]
    : [join(PG_BIN, bin), args]
  try {
    const { stdout } = await run(file, argv, { timeout: 120_000 })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}`)
  }
}

/** The postmaster's pid from its pid file, when that process still runs this data directory. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
    // A killed process can linger as a zombie here (pid 1 reaps late), so kill(pid, 0) is not
    // enough: the command line of a live postmaster names its data directory.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes(dataDir) ? pid : undefined
  } catch {
    return undefined
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * Starts a primary and a hot standby of it; both are stopped (by pid) and their directory removed
 * at the end of the test.
 */
export async function startPgStandby(
  t: TestContext,
  options: PgStandbyOptions = {},
): Promise<PgStandby> {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-pg-standby-'))
  const primaryDir = join(dir, 'primary')
  const standbyDir = join(dir, 'standby')
  const socketDir = dir
  if (asRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'))
  const primaryPort = await freePort()
  let standbyPort = await freePort()
  while (standbyPort === primaryPort) standbyPort = await freePort()
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/${DATABASE}`
  const adminUrl = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`

  const start = (dataDir: string, port: number, log: string) =>
    pgRun('pg_ctl', [
      '-D',
      dataDir,
      '-l',
      join(dir, log),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1`,
      'start',
    ])
  const stopNode = async (dataDir: string) => {
    if (postmasterPid(dataDir) === undefined) return
    await pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() => {
      const pid = postmasterPid(dataDir)
      if (pid !== undefined) process.kill(pid, 'SIGKILL')
    })
  }
  const query = async (port: number, text: string, admin = false) => {
    const client = new pg.Client({ connectionString: admin ? adminUrl(port) : url(port) })
    await client.connect()
    try {
      return await client.query(text)
    } finally {
      await client.end()
    }
  }

  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await stopNode(standbyDir)
    await stopNode(primaryDir)
    rmSync(dir, { recursive: true, force: true })
  }
  t.after(stop)

  await pgRun('initdb', [
    '-D',
    primaryDir,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ])
  // fsync off: test-only speed (durability here comes from the standby, which is what is tested).
  const settings = [
    'wal_level = replica',
    'max_wal_senders = 5',
    'max_replication_slots = 5',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'wal_keep_size = 64MB',
    'shared_buffers = 32MB',
    'max_connections = 60',
    'fsync = off',
    'full_page_writes = off',
  ]
  appendConf(join(primaryDir, 'postgresql.conf'), settings)
  await start(primaryDir, primaryPort, 'primary.log')
  await query(primaryPort, `CREATE DATABASE ${DATABASE}`, true)
  await pgRun('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primaryPort),
    '-U',
    'postgres',
    '-D',
    standbyDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '-C',
    '-S',
    STANDBY_NAME,
    '--no-sync',
  ])
  // application_name names the standby for synchronous_standby_names.
  appendConf(join(standbyDir, 'postgresql.auto.conf'), [
    `primary_conninfo = 'application_name=${STANDBY_NAME} host=127.0.0.1 port=${primaryPort} user=postgres'`,
  ])
  await start(standbyDir, standbyPort, 'standby.log')
  const streaming = async () => {
    const { rows } = await query(
      primaryPort,
      `SELECT state, sync_state FROM pg_stat_replication WHERE application_name = '${STANDBY_NAME}'`,
      true,
    )
    return rows[0]?.state === 'streaming'
  }
  await waitFor('the standby to stream', streaming)
  if (options.sync === true) {
    await query(primaryPort, `ALTER SYSTEM SET synchronous_standby_names = '${STANDBY_NAME}'`, true)
    await query(primaryPort, `ALTER SYSTEM SET synchronous_commit = 'remote_apply'`, true)
    await query(primaryPort, 'SELECT pg_reload_conf()', true)
    await waitFor('synchronous replication', async () => {
      const { rows } = await query(
        primaryPort,
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${STANDBY_NAME}'`,
        true,
      )
      return rows[0]?.sync_state === 'sync'
    })
  }

  return {
    primaryUrl: url(primaryPort),
    standbyUrl: url(standbyPort),
    stopStandby: () => stopNode(standbyDir),
    async startStandby() {
      await start(standbyDir, standbyPort, 'standby.log')
      await waitFor('the standby to stream again', streaming)
    },
    async killPrimary() {
      const pid = postmasterPid(primaryDir)
      if (pid === undefined) throw new Error('the primary is not running')
      process.kill(pid, 'SIGKILL')
      await waitFor('the primary to die', async () => postmasterPid(primaryDir) === undefined)
    },
    async promote() {
      await pgRun('pg_ctl', ['-D', standbyDir, '-w', '-t', '60', 'promote'])
      await waitFor('the promoted standby to take writes', async () => {
        const { rows } = await query(standbyPort, 'SELECT pg_is_in_recovery() AS r')
        return rows[0]?.r === false
      })
    },
    query: (node, text) => query(node === 'primary' ? primaryPort : standbyPort, text),
    stop,
  }
}

function appendConf(file: string, lines: string[]): void {
  appendFileSync(file, `\n${lines.join('\n')}\n`)
}

function idOf(flag: '-u' | '-g', user: string): number {
  const text = readFileSync('/etc/passwd', 'utf8')
  const entry = text.split('\n').find((l) => l.startsWith(`${user}:`))
  if (!entry) throw new Error(`no ${user} user (apt-get install postgresql-15 creates it)`)
  const fields = entry.split(':')
  return Number(flag === '-u' ? fields[2] : fields[3])
}

function uidOf(user: string): number {
  return idOf('-u', user)
}

function gidOf(user: string): number {
  return idOf('-g', user)
}
