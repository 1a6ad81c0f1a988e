/**
 * The example compute agent (examples/compute-agent.ts) runs against a real `actiontrail serve
 * --demo` and its actions, including the deliberate failures, are readable through the API.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { ROOT, spawnDemoServer } from '../helpers/spawn-server.js'

const exec = promisify(execFile)

for (const mode of ['direct', 'buffered'] as const) {
  test(`the example agent records its actions over HTTP (${mode})`, async (t) => {
    const server = await spawnDemoServer(t)
    const args = [
      '--import',
      'tsx',
      join(ROOT, 'examples', 'compute-agent.ts'),
      '--url',
      server.url,
      '--tokens',
      join(server.dataDir, 'tokens.json'),
      '--rounds',
      '9',
    ]
    if (mode === 'buffered') args.push('--buffered')
    const { stdout } = await exec(process.execPath, args, { cwd: ROOT, timeout: 60_000 })
    assert.match(stdout, /9 actions recorded, \d+ failed/)
    const member = server.tokens.find((x) => x.roles.includes('member'))!.token
    const admin = server.tokens.find((x) => x.roles.includes('admin'))!.token
    const uuid = 'a9e7c5b3-0000-4000-8000-000000000001'
    const list = await fetch(`${server.url}/v2.1/servers/${uuid}/os-instance-actions`, {
      headers: { 'x-auth-token': member },
    })
    assert.equal(list.status, 200)
    const actions = (
      (await list.json()) as {
        instanceActions: { action: string; request_id: string; message: string | null }[]
      }
    ).instanceActions
    assert.deepEqual(
      actions.map((a) => a.action),
      ['reboot', 'resize', 'reboot'],
    )
    // Every action's events are recorded; a failed one carries Error with a sanitized traceback.
    for (const a of actions) {
      const show = await fetch(
        `${server.url}/v2.1/servers/${uuid}/os-instance-actions/${a.request_id}`,
        {
          headers: { 'x-auth-token': admin, 'openstack-api-version': 'compute 2.84' },
        },
      )
      const body = (await show.json()) as {
        instanceAction: {
          events: {
            result: string
            details: string | null
            traceback: string | null
            host: string
          }[]
        }
      }
      const events = body.instanceAction.events
      assert.ok(events.length >= 1)
      assert.ok(events.every((e) => e.host === 'compute-demo-1'))
      for (const e of events.filter((x) => x.result === 'Error')) {
        assert.equal(a.message, 'Error')
        assert.ok(
          e.details === 'HypervisorConnectionError' || e.details?.startsWith('No valid host'),
          String(e.details),
        )
        assert.ok(!String(e.traceback).includes('hunter2'))
        assert.ok(!String(e.traceback).includes(ROOT))
      }
    }
  })
}
