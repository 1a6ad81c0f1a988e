/**
 * `actiontrail import --from-nova-api` against a real nova-api (Debian's python3-nova, the data
 * set of scripts/nova-test-server.py): after the import, ActionTrail's Nova API answers every
 * request of Nova's own — the list (whole, and page by page from 2.58) and the show of each
 * action, for every server, at every microversion from 2.1 to the highest both speak, as admin.
 *
 * Normalisations (the only differences allowed, each for a reason):
 * - statuses and JSON bodies must be deep-equal (key order aside: JSON objects are unordered and
 *   every client parses them), except:
 * - `traceback`: ActionTrail stores every traceback through its sanitizer (docs/security: file
 *   paths shortened to the package path, secrets masked), so Nova's traceback is compared after
 *   the same sanitizer (sanitizeTraceback), never raw.
 * - `links[].href` (2.58+ pages): compared without the origin. Each server builds its links from
 *   the address the request reached (Nova its port, ActionTrail the injected request's host);
 *   path and query — what a client follows — must be equal.
 * - error bodies (404 of a deleted server's actions before 2.21) are compared by status and
 *   their single top-level key (`itemNotFound`): the message names the instance the same way,
 *   but that is Nova's text, and not what a client relies on.
 *
 * Also: an interrupted import resumes from its checkpoint to the same records (no duplicates),
 * and running the import twice changes nothing.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { MAX_VERSION } from '../../src/api/compute/microversion.js'
import { createActionService } from '../../src/local-service.js'
import { NovaApiClient } from '../../src/nova/api-import/nova-api-client.js'
import { importFromNovaApi } from '../../src/nova/api-import/nova-api-import.js'
import { sanitizeTraceback } from '../../src/security/sanitize-traceback.js'
import { writerTag } from '../../src/security/writer-tag.js'
import { openStore } from '../../src/store/open-store.js'
import { buildHarness, headers, TOKENS } from '../helpers/build-app.js'
import { LocalNova, NOVA_ADMIN_TOKEN, novaSkip } from '../helpers/nova.js'
import { runCli } from '../helpers/run-cli.js'
import { ROOT } from '../helpers/spawn-server.js'

const skip = novaSkip()
let nova: LocalNova

/** Nova 26 (Zed) speaks up to 2.93; ActionTrail claims more. */
const NOVA_MAX = 93

function versions(): string[] {
  const top = Math.min(NOVA_MAX, MAX_VERSION.minor)
  return Array.from({ length: top }, (_, i) => `2.${i + 1}`)
}

/** A status and body, normalised as the file header says. */
function normalised(status: number, body: unknown, sanitize = false): unknown {
  if (status >= 400 && body && typeof body === 'object')
    return { status, error: Object.keys(body as object) }
  const events = (body as { instanceAction?: { events?: { traceback?: string | null }[] } })
    ?.instanceAction?.events
  const links = (body as { links?: { href: string }[] } | undefined)?.links
  for (const link of links ?? []) {
    const url = new URL(link.href)
    link.href = `${url.pathname}${url.search}`
  }
  if (sanitize)
    for (const e of events ?? [])
      if (typeof e.traceback === 'string') e.traceback = sanitizeTraceback(e.traceback)
  return { status, body }
}

interface Dump {
  [uuid: string]: unknown
}

/**
 * Everything ActionTrail holds of the fixture's servers, for comparing two imports: generated ids
 * and creation times aside, and writer tags checked to be nova-import's under that database's key
 * (the key differs per database, so two databases' tags differ).
 */
async function dump(dbPath: string, uuids: readonly string[]): Promise<Dump> {
  const store = await openStore(dbPath)
  try {
    const service = createActionService(store)
    const key = await service.writerTagKey()
    const tag = key ? writerTag(key, 'nova-import') : undefined
    const by = (w: string | null | undefined) => (w == null ? w : w === tag ? 'nova-import' : w)
    const out: Dump = {}
    for (const uuid of uuids) {
      const instance = await service.getInstance(uuid)
      const actions = await service.listActions(uuid, { limit: 1000 })
      const shown = []
      for (const a of actions) {
        const full = await service.getAction(uuid, a.requestId)
        shown.push({
          ...a,
          id: undefined,
          createdAt: undefined,
          writtenBy: by(a.writtenBy),
          events: full?.events.map((e) => ({
            ...e,
            id: undefined,
            actionId: undefined,
            createdAt: undefined,
            updatedAt: undefined,
            writtenBy: by(e.writtenBy),
            finishedBy: by(e.finishedBy),
          })),
        })
      }
      out[uuid] = { deleted: instance?.deletedAt !== null, name: instance?.name, shown }
    }
    return out
  } finally {
    await store.close()
  }
}

describe('import --from-nova-api against a real nova-api', { skip }, () => {
  before(async () => {
    nova = await LocalNova.start()
  })
  after(async () => {
    await nova?.close()
  })

  test('ActionTrail answers as Nova does: list and show of every action, 2.1 to 2.93, as admin', async (t) => {
    const h = await buildHarness(t)
    const key = await h.service.writerTagKey()
    const totals = await importFromNovaApi({
      client: new NovaApiClient({ url: nova.url, token: NOVA_ADMIN_TOKEN, rate: 0 }),
      url: nova.url,
      writer: h.service,
      ...(key ? { writerTag: writerTag(key, 'nova-import') } : {}),
      pageSize: 10,
    })
    assert.equal(totals.failed, 0)
    assert.equal(totals.servers, nova.servers.length)
    assert.equal(
      totals.actions,
      nova.servers.reduce((n, s) => n + s.actions, 0),
    )

    const ours = async (path: string, version: string) => {
      const res = await h.app.inject({
        method: 'GET',
        url: `/v2.1${path}`,
        headers: headers(TOKENS.admin, version),
      })
      return normalised(res.statusCode, res.body ? (JSON.parse(res.body) as unknown) : undefined)
    }
    const theirs = async (path: string, version: string) => {
      const res = await nova.get(path, version)
      return normalised(res.status, res.body, true)
    }
    let requests = 0
    const same = async (path: string, version: string) => {
      requests += 1
      const expected = await theirs(path, version)
      assert.deepEqual(await ours(path, version), expected, `GET ${path} at ${version}`)
      return expected as { status: number; body?: { instanceActions?: { request_id: string }[] } }
    }
    for (const version of versions()) {
      const minor = Number(version.split('.')[1])
      for (const server of nova.servers) {
        const base = `/servers/${server.uuid}/os-instance-actions`
        const list = await same(base, version)
        for (const a of list.body?.instanceActions ?? [])
          await same(`${base}/${a.request_id}`, version)
        if (minor >= 58 && server.actions > 10) {
          // Page by page, as a client following markers does.
          let marker: string | undefined
          for (;;) {
            const page = await same(`${base}?limit=10${marker ? `&marker=${marker}` : ''}`, version)
            const items = page.body?.instanceActions ?? []
            if (items.length < 10) break
            marker = items[items.length - 1]?.request_id
          }
        }
      }
    }
    t.diagnostic(
      `${requests} requests compared with Nova's answers at ${versions().length} microversions`,
    )
  })

  test('an interrupted import resumes from its checkpoint; a second run changes nothing', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-nova-import-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const whole = join(dir, 'whole.db')
    const resumed = join(dir, 'resumed.db')
    const checkpoint = join(dir, 'checkpoint.json')
    const args = (db: string) => [
      'import',
      '--from-nova-api',
      nova.url,
      '--page-size',
      '2',
      '--rate',
      '0',
      '--db',
      db,
    ]
    const env = { ACTIONTRAIL_NOVA_TOKEN: NOVA_ADMIN_TOKEN }

    const first = await runCli(args(whole), env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, new RegExp(`${nova.servers.length} servers`))

    // Killed (SIGKILL: no clean-up) once two servers are committed, then run again.
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'actiontrail.js'),
        ...args(resumed),
        '--checkpoint',
        checkpoint,
        '--rate',
        '3',
      ],
      { env: { ...process.env, ...env }, stdio: 'ignore' },
    )
    const exited = new Promise((r) => child.once('exit', r))
    for (;;) {
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(child.exitCode, null, 'the import ended before it could be interrupted')
      if (existsSync(checkpoint)) {
        const state = JSON.parse(readFileSync(checkpoint, 'utf8')) as { servers: number }
        if (state.servers >= 2) break
      }
    }
    child.kill('SIGKILL')
    await exited
    const partial = JSON.parse(readFileSync(checkpoint, 'utf8')) as {
      servers: number
      complete: boolean
    }
    assert.equal(partial.complete, false)
    assert.ok(partial.servers < nova.servers.length)
    const rest = await runCli([...args(resumed), '--checkpoint', checkpoint], env)
    assert.equal(rest.code, 0, rest.stderr)
    // Only the servers after the checkpoint were read again.
    assert.match(rest.stdout, new RegExp(`${nova.servers.length - partial.servers} servers`))

    const uuids = nova.servers.map((s) => s.uuid)
    const expected = await dump(whole, uuids)
    assert.deepEqual(await dump(resumed, uuids), expected)

    // A second whole run: nothing changes (updated_at, messages, events and finish times included).
    const again = await runCli(args(whole), env)
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(await dump(whole, uuids), expected)
  })

  test('bad input and an unreachable Nova are one-line errors with the CLI exit codes', async () => {
    const noToken = await runCli(['import', '--from-nova-api', nova.url, '--db', ':memory:'])
    assert.equal(noToken.code, 2)
    assert.match(noToken.stderr, /^actiontrail: .*token/)
    const badUrl = await runCli([
      'import',
      '--from-nova-api',
      'ftp://x',
      '--token',
      'a',
      '--db',
      ':memory:',
    ])
    assert.equal(badUrl.code, 2)
    const forbidden = await runCli([
      'import',
      '--from-nova-api',
      nova.url,
      '--token',
      'alice:p-alpha',
      '--db',
      ':memory:',
    ])
    assert.equal(forbidden.code, 1, forbidden.stderr)
    assert.equal(forbidden.stderr.trim().split('\n').length, 1)
    assert.doesNotMatch(forbidden.stderr, /alice/)
    // A port nothing listens on: retried with backoff (0.5 + 1 + 2 + 4 s), then exit 3.
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    const unreachable = await runCli([
      'import',
      '--from-nova-api',
      `http://127.0.0.1:${port}/v2.1`,
      '--token',
      'a',
      '--db',
      ':memory:',
    ])
    assert.equal(unreachable.code, 3, unreachable.stderr)
    assert.match(unreachable.stderr, /^actiontrail: nova: GET \/: no answer \(ECONNREFUSED\)\n$/)
  })
})
