/**
 * The real OpenStack client against a running ActionTrail: `openstack server event list` and
 * `openstack server event show`, with token + endpoint auth. Runs whenever `openstack` is on PATH
 * (.ci/run installs Debian's python3-openstackclient).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { DEMO_INSTANCES, DEMO_PROJECTS, demoRequestId } from '../../src/cli/demo-data.js'
import { spawnDemoServer, type SpawnedServer } from '../helpers/spawn-server.js'

const run = promisify(execFile)
const hasOpenstack =
  spawnSync('sh', ['-c', 'command -v openstack'], { encoding: 'utf8' }).status === 0
if (!hasOpenstack)
  console.error(
    '\n*** openstack CLI not on PATH: the OpenStack client end-to-end tests are SKIPPED ***\n',
  )

async function openstack(
  server: SpawnedServer,
  token: string,
  args: string[],
  version?: string,
): Promise<unknown> {
  const base = [
    '--os-auth-type',
    'admin_token',
    '--os-endpoint',
    `${server.url}/v2.1`,
    `--os-token=${token}`,
  ]
  if (version) base.push('--os-compute-api-version', version)
  const { stdout } = await run('openstack', [...base, ...args, '-f', 'json'], { timeout: 60_000 })
  return JSON.parse(stdout)
}

const web1 = DEMO_INSTANCES[0]!
const oldBuild = DEMO_INSTANCES.find((i) => i.name === 'old-build')!

describe(
  'openstack CLI against ActionTrail',
  { skip: !hasOpenstack && 'openstack CLI not installed' },
  () => {
    test('server event list / show by id and by name, per role', async (t) => {
      const server = await spawnDemoServer(t)
      const admin = server.tokens.find((x) => x.roles.includes('admin'))!.token
      const member = server.tokens.find(
        (x) => x.roles.includes('member') && x.project_id === DEMO_PROJECTS.demo,
      )!.token
      const outsider = server.tokens.find((x) => x.project_id === DEMO_PROJECTS.research)!.token

      const rows = (await openstack(server, admin, [
        'server',
        'event',
        'list',
        web1.uuid,
      ])) as Record<string, string>[]
      assert.equal(rows.length, 12)
      assert.deepEqual(rows.map((r) => r.Action).slice(-3), ['start', 'stop', 'create'])
      assert.ok(rows.every((r) => r['Server ID'] === web1.uuid))
      assert.equal(rows[rows.length - 1]?.['Request ID'], demoRequestId(0))
      assert.match(rows[0]?.['Start Time'] ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/)

      const byName = (await openstack(server, member, [
        'server',
        'event',
        'list',
        'web-1',
        '--long',
      ])) as Record<string, string>[]
      assert.equal(byName.length, 12)
      assert.ok(byName.every((r) => r['Project ID'] === DEMO_PROJECTS.demo))
      assert.equal(byName.find((r) => r['Request ID'] === demoRequestId(4))?.Message, 'Error')

      const shown = (await openstack(
        server,
        admin,
        ['server', 'event', 'show', web1.uuid, demoRequestId(4)],
        '2.84',
      )) as Record<string, unknown>
      assert.equal(shown.action, 'resize')
      assert.equal(shown.request_id, demoRequestId(4))
      assert.equal(shown.message, 'Error')
      const events = shown.events as Record<string, unknown>[]
      const failed = events.find((e) => e.event === 'compute_prep_resize')!
      assert.equal(failed.result, 'Error')
      assert.equal(failed.host, 'compute-01')
      // Debian's OSC 6 (novaclient) prints the raw `hostId`; SDK-based releases name it `host_id`.
      assert.match(String(failed.hostId ?? failed.host_id), /^[0-9a-f]{56}$/)
      assert.match(
        String(failed.traceback),
        /File "nova\/compute\/manager.py", line 5976, in prep_resize/,
      )
      assert.doesNotMatch(String(failed.traceback), /Sup3rS3cret|\/usr\/lib/)

      const memberView = (await openstack(
        server,
        member,
        ['server', 'event', 'show', 'web-1', demoRequestId(4)],
        '2.84',
      )) as Record<string, unknown>
      const memberEvent = (memberView.events as Record<string, unknown>[]).find(
        (e) => e.event === 'compute_prep_resize',
      )!
      assert.equal(memberEvent.traceback ?? null, null)
      assert.equal(memberEvent.host ?? null, null)
      assert.equal(memberEvent.hostId ?? memberEvent.host_id, failed.hostId ?? failed.host_id)

      await assert.rejects(
        openstack(server, outsider, ['server', 'event', 'list', web1.uuid]),
        /No server with a name or ID|could not be found|404/,
      )
    })

    test('a deleted server lists its actions by UUID from 2.21, and paging options work', async (t) => {
      const server = await spawnDemoServer(t)
      const member = server.tokens.find(
        (x) => x.roles.includes('member') && x.project_id === DEMO_PROJECTS.demo,
      )!.token
      const rows = (await openstack(
        server,
        member,
        ['server', 'event', 'list', oldBuild.uuid],
        '2.21',
      )) as Record<string, string>[]
      assert.deepEqual(
        rows.map((r) => r.Action),
        ['delete', 'stop', 'create'],
      )
      const page = (await openstack(
        server,
        member,
        ['server', 'event', 'list', web1.uuid, '--limit', '2'],
        '2.58',
      )) as Record<string, string>[]
      assert.equal(page.length, 2)
      const next = (await openstack(
        server,
        member,
        ['server', 'event', 'list', web1.uuid, '--limit', '2', '--marker', page[1]!['Request ID']!],
        '2.58',
      )) as Record<string, string>[]
      assert.equal(next.length, 2)
      assert.notEqual(next[0]?.['Request ID'], page[1]?.['Request ID'])
      const logs = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
      assert.ok(logs.length > 0)
      for (const line of logs) {
        assert.ok(!line.includes(member), 'token in log')
        assert.ok(!line.includes(DEMO_PROJECTS.demo), 'project id in log')
        assert.ok(!/req-[0-9a-f]{8}-/.test(line), 'request id in log')
      }
    })
  },
)
