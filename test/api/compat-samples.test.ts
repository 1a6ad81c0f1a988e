/**
 * The response-shape suite: every Nova API sample under test/fixtures/nova-api-samples (a verbatim
 * copy of Nova's doc/api_samples, docs/nova-behaviour.md §11) is reproduced — the same situation, microversion and
 * role — and our response must have the same keys, JSON types, array lengths and key presence
 * (`links` exactly when the sample has it). The sample directory is read at test time, so a new
 * sample file without a mapped case fails the suite.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { buildHarness, PROJECT_A, PROJECT_B, TOKENS } from '../helpers/build-app.js'
import { shapeDiff } from '../helpers/json-shape.js'
import {
  CREATE_REQ,
  json,
  SAMPLE_PROJECT,
  seedCreateStop,
  SERVER,
  STOP_REQ,
  TIMES,
} from '../helpers/seed.js'

const ROOT = fileURLToPath(new URL('../fixtures/nova-api-samples/', import.meta.url))
const ACTIONS_DIR = `${ROOT}os-instance-actions`
const VERSIONS_DIR = `${ROOT}versions`
/** The samples' host: using it makes version-discovery hrefs comparable verbatim. */
const SAMPLE_HOST = 'openstack.example.com'

/** Values that are constants of the seeded situation and must equal the sample's. */
const SAME_VALUE = new Set([
  'action',
  'event',
  'result',
  'host',
  'hostId',
  'project_id',
  'message',
  'traceback',
  'details',
  'rel',
])
/** Nova's datetime form: wherever the sample has it, ours must too. */
const NOVA_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/

interface SampleCase {
  url: string
  token?: string
  version?: string
  /** Extra checks beyond the shape. */
  check?: (body: Record<string, unknown>, sample: Record<string, unknown>) => void
}

/** Microversion of a sample directory: the base directory is 2.1, `v2.NN` is 2.NN. */
function versionOfDir(dir: string): string | undefined {
  if (dir === '') return '2.1'
  const m = /^v(2\.\d+)$/.exec(dir)
  return m?.[1]
}

function actionsUrl(project: string, query = ''): string {
  return `/v2.1/${project}/servers/${SERVER}/os-instance-actions${query}`
}

/** The next link of with-limit: the sample's href with our project, server and marker. */
function checkNextLink(body: Record<string, unknown>, sample: Record<string, unknown>): void {
  const [sampleLink] = sample.links as { href: string }[]
  const m =
    /^http:\/\/([^/]+)\/v2\.1\/([^/]+)\/servers\/([^/]+)\/os-instance-actions\?limit=1&marker=(.+)$/.exec(
      sampleLink?.href ?? '',
    )
  assert.ok(m, `sample href has the expected form: ${sampleLink?.href}`)
  const [, host, project, server, marker] = m
  const expected = (sampleLink?.href ?? '')
    .replace(host ?? '', SAMPLE_HOST)
    .replace(project ?? '', PROJECT_A)
    .replace(server ?? '', SERVER)
    .replace(marker ?? '', STOP_REQ)
  assert.deepEqual(body.links, [{ href: expected, rel: 'next' }])
}

function checkRequestIds(expected: string[]) {
  return (body: Record<string, unknown>): void => {
    const items = body.instanceActions as { request_id: string; instance_uuid: string }[]
    assert.deepEqual(
      items.map((a) => a.request_id),
      expected,
    )
    for (const a of items) assert.equal(a.instance_uuid, SERVER)
  }
}

/** The request that reproduces an instance-actions sample, by file name. */
function actionsCase(file: string, version: string): SampleCase | undefined {
  // Show: admin unless the file says non-admin (then a member of the server's project).
  if (file === 'instance-action-get-resp.json')
    return { url: actionsUrl(PROJECT_B, `/${STOP_REQ}`), token: TOKENS.admin, version }
  if (file === 'instance-action-get-non-admin-resp.json') {
    return { url: actionsUrl(PROJECT_A, `/${STOP_REQ}`), token: TOKENS.memberA, version }
  }
  // List: a member of the project.
  const list = (query: string, check?: SampleCase['check']): SampleCase => ({
    url: actionsUrl(PROJECT_A, query),
    token: TOKENS.memberA,
    version,
    ...(check ? { check } : {}),
  })
  switch (file) {
    case 'instance-actions-list-resp.json':
      return list('', checkRequestIds([STOP_REQ, CREATE_REQ]))
    case 'instance-actions-list-with-limit-resp.json':
      return list('?limit=1', (body, sample) => {
        checkRequestIds([STOP_REQ])(body)
        checkNextLink(body, sample)
      })
    case 'instance-actions-list-with-marker-resp.json':
      return list(`?marker=${STOP_REQ}`, checkRequestIds([CREATE_REQ]))
    case 'instance-actions-list-with-changes-since.json':
      // After create's last update, before stop's: only stop.
      return list(`?changes-since=${TIMES.stopStart}`, checkRequestIds([STOP_REQ]))
    case 'instance-actions-list-with-changes-before.json':
      // After stop's last update: both.
      return list(
        '?changes-before=2018-04-25T01:26:30.000000',
        checkRequestIds([STOP_REQ, CREATE_REQ]),
      )
    default:
      return undefined
  }
}

/** The request that reproduces a version-discovery sample. */
function versionsCase(file: string): SampleCase | undefined {
  const exact = (body: Record<string, unknown>, sample: Record<string, unknown>) =>
    assert.deepEqual(body, sample)
  switch (file) {
    case 'versions-get-resp.json':
      return { url: '/', check: exact }
    case 'v21-version-get-resp.json':
      return { url: '/v2.1/', check: exact }
    case 'v2-version-get-resp.json':
      return { url: '/v2/', check: exact }
    default:
      return undefined
  }
}

interface SampleFile {
  /** Path relative to the samples root, for test names. */
  name: string
  path: string
  case: SampleCase | undefined
}

function collect(): SampleFile[] {
  const out: SampleFile[] = []
  const walk = (
    dir: string,
    rel: string,
    map: (rel: string, file: string) => SampleCase | undefined,
  ) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = `${dir}/${entry}`
      const relPath = rel ? `${rel}/${entry}` : entry
      if (statSync(path).isDirectory()) walk(path, relPath, map)
      else out.push({ name: relPath, path, case: map(rel, entry) })
    }
  }
  walk(ACTIONS_DIR, '', (rel, file) => {
    const version = versionOfDir(rel)
    return version ? actionsCase(file, version) : undefined
  })
  const actionsCount = out.length
  walk(VERSIONS_DIR, '', (rel, file) => (rel === '' ? versionsCase(file) : undefined))
  for (const f of out.slice(0, actionsCount)) f.name = `os-instance-actions/${f.name}`
  for (const f of out.slice(actionsCount)) f.name = `versions/${f.name}`
  // Anything else in the samples root is a new sample family without cases.
  for (const entry of readdirSync(ROOT)) {
    if (entry !== 'os-instance-actions' && entry !== 'versions')
      out.push({ name: entry, path: `${ROOT}${entry}`, case: undefined })
  }
  return out
}

const FILES = collect()

describe('Nova API samples', () => {
  test('the fixture copy holds every sample §11 lists (33 instance-action + 3 version files)', () => {
    assert.equal(FILES.filter((f) => f.name.startsWith('os-instance-actions/')).length, 33)
    assert.equal(FILES.filter((f) => f.name.startsWith('versions/')).length, 3)
  })

  for (const file of FILES) {
    test(file.name, async (t) => {
      const c = file.case
      assert.ok(c, `no case is mapped for sample ${file.name}: add one to compat-samples.test.ts`)
      const sample = JSON.parse(readFileSync(file.path, 'utf8')) as Record<string, unknown>
      const h = await buildHarness(t)
      // Nova's situation: create, then stop with one compute_stop_instance Success event on host
      // "compute". The actions are the sample project's, so hostId equals the sample's value.
      await seedCreateStop(h, { actionProjectId: SAMPLE_PROJECT })
      const hdrs: Record<string, string> = { host: SAMPLE_HOST }
      if (c.token) hdrs['x-auth-token'] = c.token
      if (c.version) hdrs['openstack-api-version'] = `compute ${c.version}`
      const res = await h.app.inject({ method: 'GET', url: c.url, headers: hdrs })
      assert.equal(res.statusCode, 200, res.body)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      if (c.version) assert.equal(res.headers['x-openstack-nova-api-version'], c.version)
      const body = json(res)
      assert.deepEqual(shapeDiff(body, sample, { sameValue: SAME_VALUE, formats: [NOVA_TIME] }), [])
      c.check?.(body, sample)
    })
  }
})
