/**
 * Scoped service writers and writer tags (issue 11 part 5), through the HTTP API: a token-file
 * scope limits the owner projects and event hosts a service may write to (403, nothing stored),
 * `actiontrail:write` sees the owner project as its target, and every stored action and event
 * records a keyed writer tag that only admins see.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { AccessPolicy } from '../../src/auth/access-policy.js'
import type { TokenEntry } from '../../src/auth/token-file.js'
import {
  buildHarness,
  PROJECT_A,
  PROJECT_B,
  TEST_BACKEND,
  TOKENS,
  USER_A,
  type Harness,
} from '../helpers/build-app.js'
import { assertV1Error, ok, v1, VM } from './v1-helpers.js'

const SCOPED_USER = 'c0000000000040008000000000000005'
const SCOPED = 'tok-scoped-svc-6a1b'
const PROJECT_ONLY = 'tok-project-only-7d2c'
const SCOPED_TOKENS: TokenEntry[] = [
  {
    token: SCOPED,
    user_id: SCOPED_USER,
    project_id: PROJECT_A,
    roles: ['service'],
    scope: { projects: [PROJECT_A], hosts: ['compute-1'] },
  },
  {
    token: PROJECT_ONLY,
    user_id: SCOPED_USER,
    project_id: PROJECT_A,
    roles: ['service'],
    scope: { projects: [PROJECT_A] },
  },
]
const VM_B = '22222222-3333-4444-8555-666666666666'
const VM_NEW = '33333333-4444-4555-8666-777777777777'
const TAG = /^w:[0-9a-f]{16}$/

async function harness(t: Parameters<typeof buildHarness>[0], database?: string) {
  return buildHarness(t, database, { extraTokens: SCOPED_TOKENS })
}

async function put(h: Harness, uuid: string, project: string, token: string) {
  return v1(
    h,
    'PUT',
    `/v1/instances/${uuid}`,
    { name: 'vm', project_id: project, user_id: 'u' },
    { token },
  )
}

async function start(h: Harness, uuid: string, requestId: string, token: string) {
  return v1(
    h,
    'POST',
    `/v1/instances/${uuid}/actions`,
    { action: 'reboot', request_id: requestId, user_id: 'u', project_id: 'p' },
    { token },
  )
}

async function startEvent(
  h: Harness,
  uuid: string,
  requestId: string,
  host: string | null,
  token: string,
) {
  return v1(
    h,
    'POST',
    `/v1/instances/${uuid}/actions/${requestId}/events`,
    { event: 'compute_reboot_instance', host },
    { token },
  )
}

async function finishEvent(h: Harness, uuid: string, requestId: string, token: string) {
  return v1(
    h,
    'POST',
    `/v1/instances/${uuid}/actions/${requestId}/events/compute_reboot_instance/finish`,
    { result: 'Success' },
    { token },
  )
}

type QueryAction = Record<string, unknown> & { events?: Record<string, unknown>[] }

/** Every action (with events) as the token sees it through GET /v1/actions. */
async function trail(h: Harness, token: string = TOKENS.admin): Promise<QueryAction[]> {
  const body = ok(
    await v1(h, 'GET', '/v1/actions?include=events&limit=1000', undefined, { token }),
    200,
  )
  return body.actions as QueryAction[]
}

/** Registers VM in project A and VM_B in project B, both by unscoped services. */
async function seed(h: Harness): Promise<void> {
  ok(await put(h, VM, PROJECT_A, TOKENS.serviceA), 201)
  ok(await put(h, VM_B, PROJECT_B, TOKENS.serviceB), 201)
}

test('a scoped service writes inside its scope; admins see its tag on action and event', async (t) => {
  const h = await harness(t)
  await seed(h)
  ok(await start(h, VM, 'req-in-1', SCOPED), 201)
  ok(await startEvent(h, VM, 'req-in-1', 'compute-1', SCOPED), 201)
  ok(await finishEvent(h, VM, 'req-in-1', SCOPED), 200)
  // Another writer: the unscoped service of project B, on its own instance.
  ok(await start(h, VM_B, 'req-other', TOKENS.serviceB), 201)
  const actions = await trail(h)
  const mine = actions.find((a) => a.request_id === 'req-in-1') as QueryAction
  const other = actions.find((a) => a.request_id === 'req-other') as QueryAction
  const tag = mine.written_by as string
  assert.match(tag, TAG)
  assert.equal(mine.events?.[0]?.written_by, tag, 'the same writer gets the same tag')
  assert.equal(mine.events?.[0]?.finished_by, tag)
  assert.match(other.written_by as string, TAG)
  assert.notEqual(other.written_by, tag, 'another writer gets another tag')
  // Same user id through another token: the tag is of the principal's user, not of the token.
  ok(await start(h, VM, 'req-in-2', PROJECT_ONLY), 201)
  const again = (await trail(h)).find((a) => a.request_id === 'req-in-2') as QueryAction
  assert.equal(again.written_by, tag)
  const raw = JSON.stringify(await trail(h))
  assert.ok(!raw.includes(SCOPED_USER), 'the raw user id is never shown')
  assert.ok(!raw.includes(USER_A))
})

test('outside its scope a service gets 403 and nothing is stored', async (t) => {
  const h = await harness(t)
  await seed(h)
  ok(await start(h, VM, 'req-a', TOKENS.serviceA), 201)
  ok(await start(h, VM_B, 'req-b', TOKENS.serviceB), 201)
  const before = await trail(h)
  const refused = [
    ['action on another project', await start(h, VM_B, 'req-x', SCOPED)],
    [
      'finish an action of another project',
      await v1(h, 'POST', `/v1/instances/${VM_B}/actions/req-b/finish`, {}, { token: SCOPED }),
    ],
    ['event on another host', await startEvent(h, VM, 'req-a', 'compute-9', SCOPED)],
    ['event without a host', await startEvent(h, VM, 'req-a', null, SCOPED)],
    ['event on another project', await startEvent(h, VM_B, 'req-b', 'compute-1', SCOPED)],
    ['move an instance out of scope', await put(h, VM, PROJECT_B, SCOPED)],
    ['move an instance into scope', await put(h, VM_B, PROJECT_A, SCOPED)],
    ['register an instance in another project', await put(h, VM_NEW, PROJECT_B, SCOPED)],
    [
      'delete an instance of another project',
      await v1(h, 'DELETE', `/v1/instances/${VM_B}`, undefined, { token: SCOPED }),
    ],
  ] as const
  for (const [what, res] of refused) {
    await t.test(what, () => {
      assertV1Error(res, 403, 'forbidden')
    })
  }
  assert.deepEqual(await trail(h), before, 'the trail is unchanged')
  const instances = ok(
    await v1(h, 'GET', '/v1/instances?deleted=any', undefined, { token: TOKENS.admin }),
    200,
  )
  const list = instances.instances as { uuid: string; project_id: string; deleted_at?: unknown }[]
  assert.deepEqual(
    list.map((i) => [i.uuid, i.project_id, i.deleted_at ?? null]).sort(),
    [
      [VM, PROJECT_A, null],
      [VM_B, PROJECT_B, null],
    ].sort(),
  )
  // A scope without hosts leaves that axis open: the project-only token records on any host.
  ok(await startEvent(h, VM, 'req-a', 'compute-9', PROJECT_ONLY), 201)
})

test('a batch answers 403 for each operation out of scope and applies the others', async (t) => {
  const h = await harness(t)
  await seed(h)
  ok(await start(h, VM_B, 'req-b', TOKENS.serviceB), 201)
  const ops = [
    { op: 'instance_put', instance_uuid: VM_NEW, name: 'new', project_id: PROJECT_A, user_id: 'u' },
    {
      op: 'action_start',
      instance_uuid: VM_NEW,
      action: 'create',
      request_id: 'req-n',
      user_id: 'u',
      project_id: 'p',
    },
    {
      op: 'event_start',
      instance_uuid: VM_NEW,
      request_id: 'req-n',
      event: 'build',
      host: 'compute-1',
    },
    {
      op: 'event_start',
      instance_uuid: VM_NEW,
      request_id: 'req-n',
      event: 'spawn',
      host: 'compute-2',
    },
    {
      op: 'action_start',
      instance_uuid: VM_B,
      action: 'reboot',
      request_id: 'req-x',
      user_id: 'u',
      project_id: 'p',
    },
    {
      op: 'event_finish',
      instance_uuid: VM_NEW,
      request_id: 'req-n',
      event: 'build',
      result: 'Success',
    },
    { op: 'instance_put', instance_uuid: VM_B, name: 'moved', project_id: PROJECT_A, user_id: 'u' },
  ]
  const body = ok(await v1(h, 'POST', '/v1/batch', ops, { token: SCOPED }), 200)
  const results = body.results as { status: number; error?: { code: string } }[]
  assert.deepEqual(
    results.map((r) => r.status),
    [201, 201, 201, 403, 403, 200, 403],
  )
  assert.equal(results[3]?.error?.code, 'forbidden')
  const actions = await trail(h)
  assert.deepEqual(actions.map((a) => a.request_id).sort(), ['req-b', 'req-n'])
  const created = actions.find((a) => a.request_id === 'req-n') as QueryAction
  assert.deepEqual(
    created.events?.map((e) => [e.event, e.host, e.finish_time === null]),
    [['build', 'compute-1', false]],
  )
  assert.match(created.written_by as string, TAG)
  assert.equal(created.events?.[0]?.finished_by, created.written_by)
})

test('writer tags are shown to admins only, and never in the Nova-compatible views', async (t) => {
  const h = await harness(t)
  await seed(h)
  ok(await start(h, VM, 'req-a', SCOPED), 201)
  ok(await startEvent(h, VM, 'req-a', 'compute-1', SCOPED), 201)
  for (const token of [TOKENS.readerA, TOKENS.memberA]) {
    const [action] = await trail(h, token)
    assert.ok(action)
    assert.ok(!('written_by' in action), 'no tag for a reader or member')
    assert.ok(action.events?.every((e) => !('written_by' in e) && !('finished_by' in e)))
  }
  const [plain] = ok(await v1(h, 'GET', '/v1/actions', undefined, { token: TOKENS.admin }), 200)
    .actions as QueryAction[]
  assert.match(plain?.written_by as string, TAG)
  for (const path of [
    `/v2.1/servers/${VM}/os-instance-actions`,
    `/v2.1/servers/${VM}/os-instance-actions/req-a`,
  ]) {
    const res = await h.app.inject({
      method: 'GET',
      url: path,
      headers: { 'x-auth-token': TOKENS.admin, 'openstack-api-version': 'compute 2.84' },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.doesNotMatch(res.body, /written_by|finished_by|w:[0-9a-f]{16}/)
  }
})

test('a policy rule restricting actiontrail:write by project_id applies to the owner project', async (t) => {
  const policy = AccessPolicy.create({
    overrides: [{ name: 'actiontrail:write', check: 'role:service and project_id:%(project_id)s' }],
  })
  const h = await buildHarness(t, undefined, { policy })
  // Registering an instance: the target is the project in the body.
  ok(await put(h, VM, PROJECT_A, TOKENS.serviceA), 201)
  assertV1Error(await put(h, VM_B, PROJECT_B, TOKENS.serviceA), 403, 'forbidden')
  ok(await put(h, VM_B, PROJECT_B, TOKENS.serviceB), 201)
  ok(await start(h, VM, 'req-a', TOKENS.serviceA), 201)
  // Service A on project B's instance: the target is the instance's owner, not the caller.
  assertV1Error(await start(h, VM_B, 'req-x', TOKENS.serviceA), 403, 'forbidden')
  const body = ok(
    await v1(
      h,
      'POST',
      '/v1/batch',
      [
        {
          op: 'action_start',
          instance_uuid: VM_B,
          action: 'reboot',
          request_id: 'req-y',
          user_id: 'u',
          project_id: 'p',
        },
        {
          op: 'action_start',
          instance_uuid: VM,
          action: 'reboot',
          request_id: 'req-z',
          user_id: 'u',
          project_id: 'p',
        },
      ],
      { token: TOKENS.serviceA },
    ),
    200,
  )
  assert.deepEqual(
    (body.results as { status: number }[]).map((r) => r.status),
    [403, 201],
  )
  // The admin, who has no service role, is refused by this rule altogether.
  assertV1Error(await start(h, VM, 'req-admin', TOKENS.admin), 403, 'forbidden')
  assert.deepEqual((await trail(h)).map((a) => a.request_id).sort(), ['req-a', 'req-z'])
})

test('a policy rule on the host target limits where events may be recorded', async (t) => {
  const policy = AccessPolicy.create({
    overrides: [
      {
        name: 'actiontrail:write',
        check: "role:service and ('':%(host)s or 'compute-1':%(host)s)",
      },
    ],
  })
  const h = await buildHarness(t, undefined, { policy })
  ok(await put(h, VM, PROJECT_A, TOKENS.serviceA), 201)
  ok(await start(h, VM, 'req-a', TOKENS.serviceA), 201)
  ok(await startEvent(h, VM, 'req-a', 'compute-1', TOKENS.serviceA), 201)
  assertV1Error(await startEvent(h, VM, 'req-a', 'compute-2', TOKENS.serviceA), 403, 'forbidden')
  const [action] = await trail(h)
  assert.deepEqual(
    action?.events?.map((e) => e.host),
    ['compute-1'],
  )
})

test(
  'the writer tag is stable across a restart on the same database',
  { skip: TEST_BACKEND !== 'sqlite' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'actiontrail-tags-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'trail.db')
    let first: string | undefined
    await t.test('first run', async (t1) => {
      const h = await harness(t1, file)
      await seed(h)
      ok(await start(h, VM, 'req-1', SCOPED), 201)
      first = (await trail(h))[0]?.written_by as string
    })
    await t.test('after the restart', async (t2) => {
      const h = await harness(t2, file)
      ok(await start(h, VM, 'req-2', SCOPED), 201)
      const actions = await trail(h)
      const second = actions.find((a) => a.request_id === 'req-2')?.written_by
      assert.match(first as string, TAG)
      assert.equal(second, first)
    })
  },
)
