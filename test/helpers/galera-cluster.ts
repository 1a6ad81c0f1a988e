/**
 * A real 3-node MariaDB Galera cluster for a test or a bench, from Debian's packages: this wraps
 * scripts/galera-test-cluster.sh (which holds the how and the pitfalls), in a fresh temporary
 * directory on free ports, and stops it by pid and removes the directory at the end.
 *
 * Starting one costs ~15-35 s (one install-db, a bootstrap, two joins) and ~0.5 GiB of memory;
 * stop it before the next suite starts another.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REQUIRE_BACKENDS } from './backends.js'
import { ROOT } from './spawn-server.js'

const run = promisify(execFile)

const SCRIPT = join(ROOT, 'scripts', 'galera-test-cluster.sh')
// What the script runs: Debian's mariadb-server (server, install-db, client), galera-4, rsync.
const NEEDED = [
  '/usr/sbin/mariadbd',
  '/usr/bin/mariadb-install-db',
  '/usr/bin/mariadb',
  '/usr/lib/galera/libgalera_smm.so',
  '/usr/bin/wsrep_sst_rsync',
  '/usr/bin/rsync',
]

/**
 * Why no Galera cluster can start here (a missing package), or undefined when one can; a problem
 * is also printed as a loud warning, as backends.ts does for an unreachable server.
 */
export function galeraProblem(): string | undefined {
  const missing = NEEDED.filter((file) => !existsSync(file))
  if (missing.length === 0) return undefined
  const problem =
    `MariaDB Galera is not installed (missing ${missing.join(', ')}): ` +
    'apt-get install -y --no-install-recommends mariadb-server galera-4 rsync'
  const bar = '!'.repeat(100)
  console.warn(
    `\n${bar}\n!! ${problem}\n!! The Galera tests are ` +
      (REQUIRE_BACKENDS ? 'REQUIRED (ACTIONTRAIL_REQUIRE_BACKENDS=1): failing' : 'SKIPPED') +
      `.\n${bar}\n`,
  )
  return problem
}

/** A running cluster. Node numbers are 1..3. */
export interface GaleraCluster {
  dir: string
  /** `mysql://root@127.0.0.1:<port>/actiontrail`, per node (index 0 is node 1). */
  nodeUrls: string[]
  ports: number[]
  /** SIGKILLs a node. */
  kill(node: number): Promise<void>
  /** Starts a stopped or killed node again; resolves once it is Synced. */
  startNode(node: number): Promise<void>
  /**
   * Ends every node (SIGKILL, by pid: the data is thrown away, so a clean shutdown would only
   * cost seconds) and removes the directory; safe to call twice.
   */
  stop(): Promise<void>
}

/** Runs the script; rejects with its stderr (the nodes' last log lines on a failed start). */
async function script(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('bash', [SCRIPT, ...args], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 240_000,
    })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(`galera-test-cluster.sh ${args[0]} failed: ${e.stderr ?? e.message}`)
  }
}

function envValue(stdout: string, name: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${name}=`))
  if (line === undefined) throw new Error(`galera-test-cluster.sh printed no ${name}`)
  return line.slice(name.length + 1)
}

/**
 * Starts a fresh cluster. Its base port is drawn at random (each cluster takes 40 ports from it),
 * below Linux's ephemeral range (32768 and up), where any outgoing connection of a parallel test
 * can take a port. A port already in use makes the script refuse, and another base is tried; so
 * is a node that dies while the cluster first boots: seen once in CI (2026-12-07, node 1 gone
 * before it wrote its error log, base port then drawn up to 60,000; its console was not shown
 * then, it is now), an accident of the machine and not the failover these tests are about.
 */
export async function startGaleraCluster(): Promise<GaleraCluster> {
  for (let attempt = 0; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-galera-'))
    const base = 20_000 + 40 * Math.floor(Math.random() * 300)
    let stdout: string
    try {
      stdout = await script(['start', dir, String(base)])
    } catch (err) {
      await script(['stop', dir]).catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
      if (attempt < 2 && /already in use|died during startup/.test(String(err))) continue
      throw err
    }
    let stopped = false
    return {
      dir,
      nodeUrls: [1, 2, 3].map((n) => envValue(stdout, `GALERA_NODE${n}_URL`)),
      ports: [1, 2, 3].map((n) => Number(envValue(stdout, `GALERA_NODE${n}_PORT`))),
      kill: async (node) => {
        await script(['kill', dir, String(node)])
      },
      startNode: async (node) => {
        await script(['node-start', dir, String(node)])
      },
      stop: async () => {
        if (stopped) return
        stopped = true
        // A node that is not running (killed by the test) is an error of `kill`: ignored.
        await Promise.all(
          [1, 2, 3].map((n) => script(['kill', dir, String(n)]).catch(() => undefined)),
        )
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
}
