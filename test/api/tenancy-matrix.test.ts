/**
 * The tenancy matrix (issue 9): two projects, a reader, member, admin and service principal of
 * each, and every read route, at every microversion that changes what is visible. For each
 * (principal, target server, route, microversion) the expected answer is derived from Nova's
 * default policy, written below as a table of oslo.policy check strings, and the processing order
 * of docs/nova-behaviour.md §4.2 (lookup → 404, policy → 403, data). Every answer is also checked
 * for what it must not show: another tenant's ids, names, tracebacks, hosts or details.
 *
 * A new read route is one row of ROUTES (and, for a new surface, one entry of SURFACES); no new
 * test code. test/api/tenancy-policy.test.ts keeps the exact messages and filters.
 */
import { exportBody } from '../helpers/export-seed.js'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import type { Timestamp } from '../../src/domain/timestamp.js'
import { SseClient } from '../helpers/sse-client.js'
import {
  ADMIN_USER,
  ADMIN_USER_A,
  buildHarness,
  PROJECT_A,
  PROJECT_B,
  TOKENS,
  USER_A,
  USER_B,
  type Harness,
} from '../helpers/build-app.js'
import { seedAction, seedServer, sha224 } from '../helpers/seed.js'

// ---------------------------------------------------------------------------------------------
// Nova's default policy, as written in nova/policies/{base,instance_actions,servers}.py
// (2023.1 and later), and Keystone's default role implications. The test evaluates these strings
// itself: nothing here comes from src/auth, so a change of the implementation cannot move the
// expectations along with it.

const NOVA_POLICY: Record<string, string> = {
  context_is_admin: 'role:admin',
  project_reader_api: 'role:reader and project_id:%(project_id)s',
  project_reader_or_admin: 'rule:project_reader_api or rule:context_is_admin',
  'os_compute_api:os-instance-actions:list': 'rule:project_reader_or_admin',
  'os_compute_api:os-instance-actions:show': 'rule:project_reader_or_admin',
  'os_compute_api:os-instance-actions:events': 'rule:context_is_admin',
  'os_compute_api:os-instance-actions:events:details': 'rule:context_is_admin',
  'os_compute_api:servers:index': 'rule:project_reader_or_admin',
  'os_compute_api:servers:detail': 'rule:project_reader_or_admin',
  'os_compute_api:servers:show': 'rule:project_reader_or_admin',
  'os_compute_api:servers:index:get_all_tenants': 'rule:context_is_admin',
  'os_compute_api:servers:detail:get_all_tenants': 'rule:context_is_admin',
  // ActionTrail's own (GET /v1/actions, GET /v1/instances), modelled on
  // os-instance-actions:list and servers:index.
  'actiontrail:actions:query': 'rule:project_reader_or_admin',
  'actiontrail:instances:query': 'rule:project_reader_or_admin',
  'actiontrail:events:query': 'rule:project_reader_or_admin',
  'actiontrail:stream': 'rule:project_reader_or_admin',
  // The whole history as NDJSON (issue 13): admins only.
  'actiontrail:export': 'rule:context_is_admin',
  // The hash chain's signed checkpoints (issue 13): admins only.
  'actiontrail:checkpoints': 'rule:context_is_admin',
}

/** Keystone's default implied roles: admin → member → reader. */
const IMPLIES: Record<string, string[]> = { admin: ['member'], member: ['reader'] }

/** The subset of oslo.policy's language Nova's defaults use: `or`, `and`, role/rule/project_id. */
function allowed(rule: string, roles: readonly string[], project: string, target: string): boolean {
  const effective = new Set<string>()
  const add = (r: string): void => {
    if (effective.has(r)) return
    effective.add(r)
    for (const implied of IMPLIES[r] ?? []) add(implied)
  }
  roles.forEach(add)
  const check = (atom: string): boolean => {
    const [kind, value] = atom.split(':', 2) as [string, string]
    if (kind === 'role') return effective.has(value)
    if (kind === 'rule') return evaluate(`rule:${value}`)
    if (kind === 'project_id' && value === '%(project_id)s') return project === target
    throw new Error(`unknown check ${atom}`)
  }
  const evaluate = (text: string): boolean => {
    if (text.startsWith('rule:')) {
      const body = NOVA_POLICY[text.slice(5)]
      if (body === undefined) throw new Error(`unknown rule ${text}`)
      return body.split(' or ').some((alt) => alt.split(' and ').every((a) => check(a.trim())))
    }
    return check(text)
  }
  return evaluate(`rule:${rule}`)
}

// ---------------------------------------------------------------------------------------------
// The principals: every role of both projects (TOKENS in test/helpers/build-app.ts).

interface Caller {
  name: string
  token: string
  project: string
  roles: string[]
}

const CALLERS: Caller[] = [
  { name: 'reader A', token: TOKENS.readerA, project: PROJECT_A, roles: ['reader'] },
  { name: 'member A', token: TOKENS.memberA, project: PROJECT_A, roles: ['member'] },
  { name: 'admin A', token: TOKENS.adminA, project: PROJECT_A, roles: ['admin'] },
  { name: 'service A', token: TOKENS.serviceA, project: PROJECT_A, roles: ['service'] },
  { name: 'reader B', token: TOKENS.readerB, project: PROJECT_B, roles: ['reader'] },
  { name: 'member B', token: TOKENS.memberB, project: PROJECT_B, roles: ['member'] },
  { name: 'admin B', token: TOKENS.admin, project: PROJECT_B, roles: ['admin'] },
  { name: 'service B', token: TOKENS.serviceB, project: PROJECT_B, roles: ['service'] },
]

// ---------------------------------------------------------------------------------------------
// The data: in each project a live and a deleted server, each with a `create` and a failed `stop`
// whose event ran on the same host in both projects, with a traceback and details.

/** The one host every event ran on: its hostId must still differ between the projects. */
const HOST = 'node-7.rack-2.example'

interface Target {
  label: string
  uuid: string
  name: string
  project: string
  user: string
  deleted: boolean
  createReq: string
  stopReq: string
  /** Strings only an admin may read: the stored traceback and details. */
  traceback: string
  details: string
}

function target(label: string, n: number, project: string, user: string, deleted: boolean): Target {
  const hex = String(n).repeat(4)
  return {
    label,
    uuid: `${hex}${hex}-${hex}-4${hex.slice(1)}-8${hex.slice(1)}-${hex}${hex}${hex}`,
    name: `vm-${label.replace(/\W+/g, '-')}`,
    project,
    user,
    deleted,
    createReq: `req-${hex}${hex}-aaaa-4aaa-8aaa-${hex}${hex}${hex}`,
    stopReq: `req-${hex}${hex}-bbbb-4bbb-8bbb-${hex}${hex}${hex}`,
    traceback: `Traceback (most recent call last):\nRuntimeError: tb-secret-${n}`,
    details: `details-secret-${n}`,
  }
}

const TARGETS: Target[] = [
  target('A live', 1, PROJECT_A, USER_A, false),
  target('A deleted', 2, PROJECT_A, USER_A, true),
  target('B live', 3, PROJECT_B, USER_B, false),
  target('B deleted', 4, PROJECT_B, USER_B, true),
]

/** A server nobody has: another project's server must answer exactly like it. */
const NOBODY: Target = { ...target('nobody', 9, PROJECT_A, USER_A, false), project: 'none' }

async function seed(h: Harness): Promise<void> {
  for (const s of TARGETS) {
    await seedServer(h, { uuid: s.uuid, name: s.name, projectId: s.project, userId: s.user })
    await seedAction(h, {
      server: s.uuid,
      action: 'create',
      requestId: s.createReq,
      projectId: s.project,
      userId: s.user,
      startTime: '2026-01-02T03:04:05.000000',
    })
    await seedAction(h, {
      server: s.uuid,
      action: 'stop',
      requestId: s.stopReq,
      projectId: s.project,
      userId: s.user,
      startTime: '2026-01-02T03:04:06.000000',
      events: [
        {
          event: 'compute_stop_instance',
          host: HOST,
          startTime: '2026-01-02T03:04:07.000000',
          result: 'Error',
          finishTime: '2026-01-02T03:04:08.000000',
          traceback: s.traceback,
          details: s.details,
        },
      ],
    })
    if (s.deleted) await h.service.deleteInstance(s.uuid)
  }
}

/** Everything that names a target or its owner; a caller who cannot see it must not read any. */
function identifying(s: Target): string[] {
  return [s.uuid, s.name, s.project, s.user, s.createReq, s.stopReq]
}

// ---------------------------------------------------------------------------------------------
// Surfaces and microversions.

/** A microversion as a comparable number (2.62 → 62); none is the surface's default. */
type Version = { header: string | undefined; minor: number }

const COMPUTE_VERSIONS: Version[] = [
  { header: undefined, minor: 1 },
  { header: '2.21', minor: 21 }, // deleted servers' actions readable
  { header: '2.50', minor: 50 }, // last without events for non-admins
  { header: '2.51', minor: 51 }, // events for non-admins, without traceback
  { header: '2.58', minor: 58 }, // updated_at, paging
  { header: '2.62', minor: 62 }, // host (admin) and hostId (everyone)
  { header: '2.84', minor: 84 }, // details (admin)
  { header: 'latest', minor: 104 },
]

interface Surface {
  versions: Version[]
  headers: (token: string, v: Version) => Record<string, string>
}

const SURFACES: Record<'compute' | 'v1', Surface> = {
  compute: {
    versions: COMPUTE_VERSIONS,
    headers: (token, v) => ({
      'x-auth-token': token,
      ...(v.header ? { 'openstack-api-version': `compute ${v.header}` } : {}),
    }),
  },
  v1: {
    versions: [{ header: undefined, minor: 0 }],
    headers: (token) => ({ 'x-auth-token': token }),
  },
}

// ---------------------------------------------------------------------------------------------
// The routes. `lookup` routes find one server first (404 when the caller may not see it, or when
// it is deleted and the route does not show deleted servers at this version), then check `rule`
// against the server's project; collection routes check `rule` against the caller's project and
// list what the caller may see.

type Body =
  | 'servers'
  | 'server'
  | 'actions'
  | 'action'
  | 'queryActions'
  | 'queryEvents'
  | 'queryInstances'
  | 'queryInstances'
  | 'stream'
  | 'export'
  | 'none'

interface ReadRoute {
  name: string
  surface: keyof typeof SURFACES
  /** The URL for a target server, as asked by a caller. */
  url: (s: Target, caller: Caller) => string
  rule: string
  /** Lookup routes: from which microversion a deleted server is found (Infinity: never). */
  lookup?: { deletedFrom: number }
  /** Collection routes: the rule that widens the list to every project, when it is asked for. */
  everyProject?: string
  /** Microversions to try (the surface's all by default). */
  versions?: number[]
  /** The data asked for does not exist on a visible server: 404 after the policy check. */
  missing?: boolean
  /** What a 200 answer holds, checked against what the caller may see. */
  body: Body
}

const ACTIONS = (s: Target): string => `/v2.1/servers/${s.uuid}/os-instance-actions`
const IA = 'os_compute_api:os-instance-actions'
const SERVERS_VERSIONS = [1, 104]

const ROUTES: ReadRoute[] = [
  {
    name: 'GET /servers',
    surface: 'compute',
    url: () => '/v2.1/servers',
    rule: 'os_compute_api:servers:index',
    versions: SERVERS_VERSIONS,
    body: 'servers',
  },
  {
    name: 'GET /servers?all_tenants=1',
    surface: 'compute',
    url: () => '/v2.1/servers?all_tenants=1',
    rule: 'os_compute_api:servers:index',
    everyProject: 'os_compute_api:servers:index:get_all_tenants',
    versions: SERVERS_VERSIONS,
    body: 'servers',
  },
  {
    name: 'GET /servers/detail',
    surface: 'compute',
    url: () => '/v2.1/servers/detail',
    rule: 'os_compute_api:servers:detail',
    versions: SERVERS_VERSIONS,
    body: 'servers',
  },
  {
    name: 'GET /{project_id}/servers/detail?all_projects=1',
    surface: 'compute',
    url: (_s, c) => `/v2.1/${c.project}/servers/detail?all_projects=1`,
    rule: 'os_compute_api:servers:detail',
    everyProject: 'os_compute_api:servers:detail:get_all_tenants',
    versions: SERVERS_VERSIONS,
    body: 'servers',
  },
  {
    name: 'GET /{project_id}/servers',
    surface: 'compute',
    url: (_s, c) => `/v2.1/${c.project}/servers`,
    rule: 'os_compute_api:servers:index',
    versions: SERVERS_VERSIONS,
    body: 'servers',
  },
  {
    name: 'GET /{project_id}/servers/{id}',
    surface: 'compute',
    url: (s, c) => `/v2.1/${c.project}/servers/${s.uuid}`,
    rule: 'os_compute_api:servers:show',
    lookup: { deletedFrom: Infinity },
    versions: SERVERS_VERSIONS,
    body: 'server',
  },
  {
    name: 'GET /servers/{id}',
    surface: 'compute',
    url: (s) => `/v2.1/servers/${s.uuid}`,
    rule: 'os_compute_api:servers:show',
    lookup: { deletedFrom: Infinity },
    versions: SERVERS_VERSIONS,
    body: 'server',
  },
  {
    name: 'GET /servers/{id}/os-instance-actions',
    surface: 'compute',
    url: ACTIONS,
    rule: `${IA}:list`,
    lookup: { deletedFrom: 21 },
    body: 'actions',
  },
  {
    name: 'GET /{project_id}/servers/{id}/os-instance-actions',
    surface: 'compute',
    url: (s, c) => `/v2.1/${c.project}/servers/${s.uuid}/os-instance-actions`,
    rule: `${IA}:list`,
    lookup: { deletedFrom: 21 },
    versions: [1, 58, 104],
    body: 'actions',
  },
  {
    name: 'GET /servers/{id}/os-instance-actions/{request_id}',
    surface: 'compute',
    url: (s) => `${ACTIONS(s)}/${s.stopReq}`,
    rule: `${IA}:show`,
    lookup: { deletedFrom: 21 },
    body: 'action',
  },
  {
    name: 'GET /{project_id}/servers/{id}/os-instance-actions/{request_id}',
    surface: 'compute',
    url: (s, c) => `/v2.1/${c.project}/servers/${s.uuid}/os-instance-actions/${s.stopReq}`,
    rule: `${IA}:show`,
    lookup: { deletedFrom: 21 },
    versions: [1, 51, 62, 104],
    body: 'action',
  },
  {
    name: 'GET /servers/{id}/os-instance-actions/{unknown request_id}',
    surface: 'compute',
    url: (s) => `${ACTIONS(s)}/req-00000000-0000-4000-8000-000000000000`,
    rule: `${IA}:show`,
    lookup: { deletedFrom: 21 },
    versions: [1, 21, 104],
    missing: true,
    body: 'none',
  },
  {
    // Another server's request id through a server the caller may see: "Action … not found",
    // never the other server's action.
    name: "GET /servers/{id}/os-instance-actions/{another project's request_id}",
    surface: 'compute',
    url: (s) => `${ACTIONS(s)}/${TARGETS.find((o) => o.project !== s.project)?.stopReq}`,
    rule: `${IA}:show`,
    lookup: { deletedFrom: 21 },
    versions: [1, 21, 104],
    missing: true,
    body: 'none',
  },
  {
    name: 'GET /v1/instances?deleted=any',
    surface: 'v1',
    url: () => '/v1/instances?deleted=any',
    rule: 'actiontrail:instances:query',
    body: 'queryInstances',
  },
  {
    name: 'GET /v1/actions',
    surface: 'v1',
    url: () => '/v1/actions',
    rule: 'actiontrail:actions:query',
    body: 'queryActions',
  },
  {
    name: 'GET /v1/actions?include=events',
    surface: 'v1',
    url: () => '/v1/actions?include=events&limit=1000',
    rule: 'actiontrail:actions:query',
    body: 'queryActions',
  },
  {
    name: 'GET /v1/events',
    surface: 'v1',
    url: () => '/v1/events?limit=1000',
    rule: 'actiontrail:events:query',
    body: 'queryEvents',
  },
  {
    name: 'GET /v1/events?time_field=updated_at&result=error',
    surface: 'v1',
    url: () => '/v1/events?time_field=updated_at&result=error&limit=1000',
    rule: 'actiontrail:events:query',
    body: 'queryEvents',
  },
  {
    name: 'GET /v1/export',
    surface: 'v1',
    url: () => '/v1/export',
    rule: 'actiontrail:export',
    body: 'export',
  },
  {
    // Positions, links and counts only: nothing of any tenant to leak, but admins only.
    name: 'GET /v1/checkpoints',
    surface: 'v1',
    url: () => '/v1/checkpoints',
    rule: 'actiontrail:checkpoints',
    body: 'none',
  },
  {
    // Replays every seeded change; a stream never ends, so it is read over real HTTP until the
    // caller's own marker arrives (runStreamCase). Last: its markers add actions.
    name: 'GET /v1/stream?after=0',
    surface: 'v1',
    url: () => '/v1/stream?after=0',
    rule: 'actiontrail:stream',
    body: 'stream',
  },
]

// ---------------------------------------------------------------------------------------------
// The checks.

interface Case {
  route: ReadRoute
  caller: Caller
  target: Target
  version: Version
}

const isAdmin = (c: Caller): boolean => allowed('context_is_admin', c.roles, c.project, c.project)
const may = (rule: string, c: Caller, project: string): boolean =>
  allowed(rule, c.roles, c.project, project)

/** Which step of Nova's processing order answers this case. */
type Outcome = 'hidden' | 'forbidden' | 'missing' | 'shown'

const STATUS: Record<Outcome, number> = { hidden: 404, forbidden: 403, missing: 404, shown: 200 }

function expectedOutcome({ route, caller, target: s, version }: Case): Outcome {
  if (route.lookup) {
    // Nova's instance lookup is scoped to the caller's project unless the context is admin.
    if (!isAdmin(caller) && caller.project !== s.project) return 'hidden'
    if (s.deleted && version.minor < route.lookup.deletedFrom) return 'hidden'
    if (!may(route.rule, caller, s.project)) return 'forbidden'
  } else if (!may(route.rule, caller, caller.project)) return 'forbidden'
  return route.missing ? 'missing' : 'shown'
}

/** The servers a 200 of a collection route lists. */
function expectedServers({ route, caller }: Case): string[] {
  const every = route.everyProject !== undefined && may(route.everyProject, caller, caller.project)
  return TARGETS.filter((s) => !s.deleted && (every || s.project === caller.project))
    .map((s) => s.uuid)
    .sort()
}

type Json = Record<string, unknown>

/** Checks the body of a 200 answer; returns the problems found. */
function checkBody(c: Case, body: Json, hostIds: Map<string, Set<string>>): string[] {
  const { route, target: s, caller, version } = c
  const problems: string[] = []
  const expect = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what)
  }
  switch (route.body) {
    case 'servers': {
      const ids = ((body.servers ?? []) as Json[]).map((x) => String(x.id)).sort()
      expect(
        JSON.stringify(ids) === JSON.stringify(expectedServers(c)),
        `lists ${ids.join(',') || 'nothing'}, expected ${expectedServers(c).join(',')}`,
      )
      break
    }
    case 'server': {
      const server = body.server as Json
      expect(server.id === s.uuid && server.tenant_id === s.project, 'shows another server')
      break
    }
    case 'actions': {
      const items = (body.instanceActions ?? []) as Json[]
      expect(
        JSON.stringify(items.map((a) => a.request_id)) === JSON.stringify([s.stopReq, s.createReq]),
        `lists ${items.map((a) => a.request_id).join(',')}`,
      )
      expect(
        items.every((a) => a.instance_uuid === s.uuid && a.project_id === s.project),
        'an item of another server or project',
      )
      break
    }
    case 'action': {
      const action = body.instanceAction as Json
      expect(action.request_id === s.stopReq && action.instance_uuid === s.uuid, 'another action')
      const internals = may(`${IA}:events`, caller, s.project)
      const details = may(`${IA}:events:details`, caller, s.project)
      const events = action.events as Json[] | undefined
      const eventsShown = internals || version.minor >= 51
      expect((events !== undefined) === eventsShown, `events ${events ? 'shown' : 'hidden'}`)
      for (const e of events ?? []) {
        expect('traceback' in e === internals, `traceback ${'traceback' in e ? 'shown' : 'hidden'}`)
        if (internals) expect(e.traceback === s.traceback, 'traceback differs from the stored one')
        const host = internals && version.minor >= 62
        expect('host' in e === host, `host ${'host' in e ? 'shown' : 'hidden'}`)
        if (host) expect(e.host === HOST, 'host differs')
        expect(
          'hostId' in e === version.minor >= 62,
          `hostId ${'hostId' in e ? 'shown' : 'hidden'}`,
        )
        if ('hostId' in e) {
          expect(e.hostId === sha224(`${s.project}${HOST}`), 'hostId is not sha224(project+host)')
          const seen = hostIds.get(s.project) ?? new Set<string>()
          hostIds.set(s.project, seen.add(String(e.hostId)))
        }
        const shown = details && version.minor >= 84
        expect('details' in e === shown, `details ${'details' in e ? 'shown' : 'hidden'}`)
        if (shown) expect(e.details === s.details, 'details differ from the stored ones')
      }
      break
    }
    case 'queryInstances': {
      // Every instance, deleted ones too (deleted=any), of the caller's project or of all for an admin.
      const got = ((body.instances ?? []) as Json[]).map((x) => String(x.uuid)).sort()
      const expected = TARGETS.filter((o) => isAdmin(caller) || o.project === caller.project)
        .map((o) => o.uuid)
        .sort()
      expect(JSON.stringify(got) === JSON.stringify(expected), `lists ${got.join(',')}`)
      break
    }
    case 'queryActions': {
      // Every action on the instances of the caller's project (deleted ones too: an audit
      // trail), or of every project for an admin; events without internals for non-admins.
      const admin = isAdmin(caller)
      const items = (body.actions ?? []) as Json[]
      const expected = TARGETS.filter((o) => admin || o.project === caller.project)
        .flatMap((o) => [o.createReq, o.stopReq])
        .sort()
      const got = items.map((a) => String(a.request_id)).sort()
      expect(JSON.stringify(got) === JSON.stringify(expected), `lists ${got.join(',')}`)
      for (const e of items.flatMap((a) => (a.events ?? []) as Json[])) {
        expect('traceback' in e === admin, `traceback ${'traceback' in e ? 'shown' : 'hidden'}`)
        expect('host' in e === admin, `host ${'host' in e ? 'shown' : 'hidden'}`)
        expect('details' in e === admin, `details ${'details' in e ? 'shown' : 'hidden'}`)
        if (admin) expect(e.host === HOST, 'host differs')
      }
      if (c.route.url(s, caller).includes('include=events'))
        expect(
          items.every((a) => Array.isArray(a.events)),
          'events not embedded',
        )
      break
    }
    case 'queryEvents': {
      // The one event of every stop action on the caller's project's instances (every project's
      // for an admin), with its action; traceback, host and details only for admins.
      const admin = isAdmin(caller)
      const items = (body.events ?? []) as Json[]
      const expected = TARGETS.filter((o) => admin || o.project === caller.project)
        .map((o) => `${o.uuid}/${o.stopReq}`)
        .sort()
      const got = items.map((e) => `${String(e.instance_uuid)}/${String(e.request_id)}`).sort()
      expect(JSON.stringify(got) === JSON.stringify(expected), `lists ${got.join(',')}`)
      for (const e of items) {
        expect(e.action === 'stop' && e.event === 'compute_stop_instance', 'another event')
        expect('traceback' in e === admin, `traceback ${'traceback' in e ? 'shown' : 'hidden'}`)
        expect('host' in e === admin, `host ${'host' in e ? 'shown' : 'hidden'}`)
        expect('details' in e === admin, `details ${'details' in e ? 'shown' : 'hidden'}`)
        if (admin) expect(e.host === HOST, 'host differs')
      }
      break
    }
    case 'stream': {
      // Everything on the instances the caller may see, in order, nothing else; events without
      // internals for non-admins. `body` is `{ messages }` (runStreamCase).
      const admin = isAdmin(caller)
      const messages = body.messages as { event: string; data: Json }[]
      const visible = new Set(
        TARGETS.filter((o) => admin || o.project === caller.project).map((o) => o.uuid),
      )
      const seeded = TARGETS.filter((o) => visible.has(o.uuid)).flatMap((o) => [
        o.createReq,
        o.stopReq,
      ])
      const got = new Set<string>()
      for (const m of messages) {
        const item = (m.event === 'action' ? m.data.action : m.data) as Json
        expect(visible.has(String(item.instance_uuid)), `streams ${String(item.instance_uuid)}`)
        got.add(String(item.request_id))
        if (m.event === 'event') {
          const e = m.data.event as Json
          expect('traceback' in e === admin, `traceback ${'traceback' in e ? 'shown' : 'hidden'}`)
          expect('host' in e === admin, `host ${'host' in e ? 'shown' : 'hidden'}`)
          expect('details' in e === admin, `details ${'details' in e ? 'shown' : 'hidden'}`)
        }
      }
      expect(
        seeded.every((r) => got.has(r)),
        `streams ${[...got].join(',')}, expected ${seeded.join(',')}`,
      )
      break
    }
    case 'export': {
      // Only admins get here (actiontrail:export): every action of every project, with the
      // events' internals. `body` is `{ lines }`, the NDJSON's records between the header and
      // the end line (exportBody checks that the end line counts them).
      const lines = body.lines as Json[]
      const expected = TARGETS.flatMap((o) => [o.createReq, o.stopReq]).sort()
      const got = lines.map((l) => String((l.action as Json).request_id)).sort()
      expect(JSON.stringify(got) === JSON.stringify(expected), `exports ${got.join(',')}`)
      for (const e of lines.flatMap((l) => l.events as Json[]))
        expect('traceback' in e && e.host === HOST, 'an event without its internals')
      break
    }
    case 'none':
      break
  }
  return problems
}

/**
 * A stream case over real HTTP: open the stream, read until `: ready`, write one marker action on
 * an instance of the caller's project, read until it arrives (every change before it has been
 * passed to the caller by then, in position order), close.
 */
async function runStreamCase(h: Harness, c: Case): Promise<string[]> {
  const url = c.route.url(c.target, c.caller)
  const address = h.app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const client = await SseClient.open(`http://127.0.0.1:${port}${url}`, {
    'x-auth-token': c.caller.token,
  })
  try {
    const outcome = expectedOutcome(c)
    const problems: string[] = []
    if (client.status !== STATUS[outcome] || outcome !== 'shown') {
      await client.closed()
      if (client.status !== STATUS[outcome])
        problems.push(`status ${client.status}, expected ${outcome}: ${client.body.slice(0, 200)}`)
      return [...problems, ...leaks(c, url, `${JSON.stringify(client.headers)}\n${client.body}`)]
    }
    await client.until(() => client.comments.includes('ready'), 'ready')
    const own = TARGETS.find((o) => o.project === c.caller.project && !o.deleted) as Target
    const marker = `mark-${c.caller.name.replace(/\W+/g, '-')}`
    await h.store.startAction({
      instanceUuid: own.uuid,
      action: 'mark',
      requestId: marker,
      userId: null,
      projectId: null,
      startTime: '2026-01-02T03:05:00.000000' as Timestamp,
      createdAt: '2026-01-02T03:05:00.000000' as Timestamp,
    })
    await client.until(
      () => client.messages.some((m) => m.data.includes(`"request_id":"${marker}"`)),
      'the marker',
    )
    const text = client.messages.map((m) => m.data).join('\n')
    problems.push(
      ...checkBody(
        c,
        {
          messages: client.messages.map((m) => ({
            event: m.event,
            data: JSON.parse(m.data) as Json,
          })),
        },
        new Map(),
      ),
      ...leaks(c, url, `${JSON.stringify(client.headers)}\n${text}`),
    )
    return problems
  } finally {
    client.close()
  }
}

/**
 * What an answer must never hold, whatever its status: the ids and names of servers the caller
 * cannot see (unless the caller sent them in the URL, as in "Instance <id> could not be found"),
 * and, for a non-admin, any stored traceback, details or host name.
 */
function leaks({ caller }: Case, url: string, text: string): string[] {
  const admin = isAdmin(caller)
  const hidden = TARGETS.filter((o) => !admin && o.project !== caller.project).flatMap(identifying)
  const found = hidden.filter((secret) => !url.includes(secret) && text.includes(secret))
  if (!admin) {
    for (const o of TARGETS) {
      for (const secret of [o.traceback.split('\n')[1] ?? '', o.details, HOST]) {
        if (text.includes(secret)) found.push(secret)
      }
    }
  }
  return [...new Set(found)].map((x) => `leaks ${JSON.stringify(x)}`)
}

async function ask(
  h: Harness,
  c: Case,
  s: Target,
): Promise<{ url: string; res: LightMyRequestResponse }> {
  const url = c.route.url(s, c.caller)
  const res = await h.app.inject({
    method: 'GET',
    url,
    headers: SURFACES[c.route.surface].headers(c.caller.token, c.version),
  })
  return { url, res }
}

/** One case: its problems, or none. */
async function runCase(h: Harness, c: Case, hostIds: Map<string, Set<string>>): Promise<string[]> {
  if (c.route.body === 'stream') return runStreamCase(h, c)
  const { url, res } = await ask(h, c, c.target)
  const outcome = expectedOutcome(c)
  const problems: string[] = []
  if (res.statusCode !== STATUS[outcome]) {
    problems.push(`status ${res.statusCode}, expected ${outcome}: ${res.body.slice(0, 200)}`)
  } else if (outcome === 'shown') {
    const parsed =
      c.route.body === 'export'
        ? { lines: exportBody(res.body).slice(1) as Json[] }
        : (JSON.parse(res.body) as Json)
    problems.push(...checkBody(c, parsed, hostIds))
  } else if (outcome === 'hidden') {
    // Existence does not leak: the answer is the one for a server nobody has, byte for byte
    // once the id the caller sent is replaced.
    const unknown = await ask(h, c, NOBODY)
    const same =
      unknown.res.statusCode === 404 &&
      unknown.res.body.replaceAll(NOBODY.uuid, '<id>') ===
        res.body.replaceAll(c.target.uuid, '<id>')
    if (!same) problems.push(`404 differs from an unknown server's: ${res.body.slice(0, 200)}`)
  }
  problems.push(...leaks(c, url, `${JSON.stringify(res.headers)}\n${res.body}`))
  return problems
}

function versionsOf(route: ReadRoute): Version[] {
  const all = SURFACES[route.surface].versions
  return route.versions ? all.filter((v) => route.versions?.includes(v.minor)) : all
}

/** Runs every case of one route on the seeded harness; fails with the list of failed cases. */
async function checkRoute(h: Harness, route: ReadRoute): Promise<void> {
  const hostIds = new Map<string, Set<string>>()
  const failures: string[] = []
  let cases = 0
  // A collection route lists the same thing whatever the target: one target is enough.
  const targets = route.lookup ? TARGETS : TARGETS.slice(0, 1)
  for (const version of versionsOf(route)) {
    // The cases of one microversion at once: on the server backends most of a case is waiting
    // for the database.
    const batch = CALLERS.flatMap((caller) =>
      targets.map((s): Case => ({ route, caller, target: s, version })),
    )
    const results = await Promise.all(batch.map((c) => runCase(h, c, hostIds)))
    batch.forEach((c, i) => {
      for (const p of results[i] ?? []) {
        failures.push(`${c.caller.name} → ${c.target.label} @${version.header ?? 'default'}: ${p}`)
      }
    })
    cases += batch.length
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`)
  // The same host has a different hostId in each project that saw it.
  const sets = [...hostIds.values()]
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const shared = [...(sets[i] ?? [])].filter((x) => sets[j]?.has(x))
      assert.deepEqual(shared, [], 'one hostId for the same host in two projects')
    }
  }
  if (route.body === 'action' && versionsOf(route).some((v) => v.minor >= 62)) {
    assert.deepEqual([...hostIds.keys()].sort(), [PROJECT_A, PROJECT_B].sort())
  }
}

// One harness for all routes: the rows only read, and a fresh database per row cost ~2 s each on
// the server backends (measured on PostgreSQL under the shared CI load).
test('tenancy matrix', async (t) => {
  const h = await buildHarness(t)
  await seed(h)
  await t.test('every GET route of the OpenAPI documents has a row', () => uncovered(h))
  // Streams are read over real HTTP (app.inject waits for the end of an answer).
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  for (const route of ROUTES) await t.test(route.name, () => checkRoute(h, route))
})

/** Version discovery: public, the same for everyone, no tenant data. */
const PUBLIC_READS = new Set(['/', '/v2', '/v2/', '/v2.1', '/v2.1/'])

/** Fails when a documented GET route is neither public nor matched by a row of ROUTES. */
async function uncovered(h: Harness): Promise<void> {
  const templates: string[] = []
  for (const url of ['/openapi.json', '/v1/openapi.json']) {
    const doc = (await h.app.inject(url)).json() as {
      paths: Record<string, Record<string, unknown>>
    }
    for (const [path, methods] of Object.entries(doc.paths)) {
      if ('get' in methods && !PUBLIC_READS.has(path)) templates.push(path)
    }
  }
  const asked = ROUTES.map((r) =>
    r.url(TARGETS[0] as Target, CALLERS[0] as Caller).replace(/\?.*/, ''),
  )
  const missing = templates.filter((template) => {
    const pattern = new RegExp(
      `^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`,
    )
    return !asked.some((url) => pattern.test(url))
  })
  assert.deepEqual(missing, [], 'read routes without a row in ROUTES')
}

test('tenancy matrix: the principals are distinct users of both projects, every role of each', () => {
  // Guards the table itself: dropping a principal would silently shrink the matrix.
  for (const project of [PROJECT_A, PROJECT_B]) {
    const roles = CALLERS.filter((c) => c.project === project).flatMap((c) => c.roles)
    assert.deepEqual(roles.sort(), ['admin', 'member', 'reader', 'service'])
  }
  assert.equal(new Set(CALLERS.map((c) => c.token)).size, CALLERS.length)
  assert.notEqual(ADMIN_USER, ADMIN_USER_A)
  // The policy table reads as Nova's: a project reader passes list, a service alone does not.
  assert.equal(may(`${IA}:list`, CALLERS[0] as Caller, PROJECT_A), true)
  assert.equal(may(`${IA}:list`, CALLERS[0] as Caller, PROJECT_B), false)
  assert.equal(may(`${IA}:list`, CALLERS[3] as Caller, PROJECT_A), false)
  assert.equal(may(`${IA}:events`, CALLERS[1] as Caller, PROJECT_A), false)
  assert.equal(may(`${IA}:events`, CALLERS[6] as Caller, PROJECT_A), true)
})
