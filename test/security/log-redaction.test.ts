/**
 * A full API run with a capturing log: no raw user, project or request id and no token may appear
 * in any log line, yet the same id must map to the same tag so lines still correlate.
 */
import assert from 'node:assert/strict'
import { connect, type AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { buildApp } from '../../src/api/app.js'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import { createActionService } from '../../src/local-service.js'
import { createLogger } from '../../src/security/redacting-logger.js'
import { openStores } from '../../src/store/open-store.js'
import {
  buildHarness,
  headers,
  PROJECT_A,
  PROJECT_B,
  TOKEN_ENTRIES,
  TOKENS,
  USER_A,
  ADMIN_USER,
  USER_B,
} from '../helpers/build-app.js'
import { captureLogger } from '../helpers/log-capture.js'

const SERVER = '3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f'
const RID = 'req-6d8e0f1a-2b3c-4d5e-8f6a-7b8c9d0e1f2a'

test('a full API run logs no raw id or token', async (t) => {
  const h = await buildHarness(t)
  await h.service.putInstance({ uuid: SERVER, name: 'vm', projectId: PROJECT_A, userId: USER_A })
  await h.service.actionStart({
    instanceUuid: SERVER,
    action: 'reboot',
    requestId: RID,
    userId: USER_A,
    projectId: PROJECT_A,
  })
  await h.service.eventStart({
    instanceUuid: SERVER,
    requestId: RID,
    event: 'compute_reboot_instance',
    host: 'c1',
  })
  await h.service.eventFinish({
    instanceUuid: SERVER,
    requestId: RID,
    event: 'compute_reboot_instance',
    result: 'Error',
    details: 'x',
    traceback: 'tb',
  })
  const responseIds: string[] = []
  const urls = [
    `/v2.1/servers/${SERVER}/os-instance-actions`,
    `/v2.1/${PROJECT_A}/servers/${SERVER}/os-instance-actions?limit=1&marker=${RID}`,
    `/v2.1/servers/${SERVER}/os-instance-actions/${RID}`,
    `/v2.1/servers/${SERVER}/os-instance-actions?marker=req-unknown`,
    `/v2.1/${PROJECT_B}/servers/${SERVER}/os-instance-actions`,
    `/v2.1/servers/${SERVER}`,
    '/v2.1/servers/detail?name=vm',
    '/v2.1/nope',
  ]
  for (const token of [TOKENS.memberA, TOKENS.admin, TOKENS.memberB, 'not-a-token-0d9f']) {
    for (const url of urls) {
      const r = await h.app.inject({ url, headers: headers(token, '2.84') })
      responseIds.push(String(r.headers['x-openstack-request-id']))
    }
  }
  const logs = h.logs()
  assert.ok(logs.split('\n').length > urls.length * 4, 'every request is logged')
  const secrets = [
    ...Object.values(TOKENS),
    'not-a-token-0d9f',
    PROJECT_A,
    PROJECT_B,
    USER_A,
    USER_B,
    ADMIN_USER,
    RID,
    ...responseIds,
  ]
  for (const s of secrets) assert.ok(!logs.includes(s), `log contains ${s}`)
  // Tags correlate: the lines of one request id carry one tag, every line has one.
  const tags = logs
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { reqId?: string }).reqId)
  assert.ok(tags.every((tag) => typeof tag === 'string' && /^id:[0-9a-f]{16}$/.test(tag)))
  assert.equal(new Set(tags).size, responseIds.length)
})

test('an unexpected failure is a generic 500 and its logged error is scrubbed', async (t) => {
  const chunks: string[] = []
  const destination = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString())
      cb()
    },
  })
  const { logger } = createLogger({ level: 'info', key: 'k', destination })
  const { actions: store, idempotency, close } = await openStores(':memory:')
  t.after(close)
  const leaky = `lookup failed for ${RID} project ${PROJECT_A} token=${TOKENS.memberA} at postgres://svc:pw-123@db/x`
  store.getInstance = () => Promise.reject(new Error(leaky))
  const app = await buildApp({
    service: createActionService(store),
    authenticator: new StaticTokenAuthenticator(TOKEN_ENTRIES),
    logger,
    idempotency,
  })
  t.after(() => app.close())
  const r = await app.inject({
    url: `/v2.1/servers/${SERVER}/os-instance-actions`,
    headers: headers(TOKENS.memberA),
  })
  assert.equal(r.statusCode, 500)
  assert.deepEqual(r.json(), {
    computeFault: { code: 500, message: 'Unexpected API Error. Please contact the administrator' },
  })
  const logs = chunks.join('')
  assert.match(logs, /lookup failed for id:[0-9a-f]{16}/)
  for (const s of [RID, PROJECT_A, TOKENS.memberA, 'pw-123'])
    assert.ok(!logs.includes(s), `log contains ${s}`)
})

// The logger and the traceback sanitizer share one set of key rules (src/security/sanitize/secret-keys.ts):
// each case is a key the logger once wrote in clear.
const SECRET_FIELDS: { name: string; fields: Record<string, unknown>; secrets: string[] }[] = [
  {
    name: 'suffix and env-style keys',
    fields: { db_password: 'dbpw-11', OS_PASSWORD: 'ospw-12', accessToken: 'at-13' },
    secrets: ['dbpw-11', 'ospw-12', 'at-13'],
  },
  {
    name: 'header case variants',
    fields: {
      'X-Auth-Token': 'xat-21',
      'X-AUTH-TOKEN': 'xat-22',
      Authorization: 'Bearer ab-23',
      'Set-Cookie': 'sid=ck-24',
      'X-Service-Token': 'xst-25',
      'Proxy-Authorization': 'pa-26',
    },
    secrets: ['xat-21', 'xat-22', 'ab-23', 'ck-24', 'xst-25', 'pa-26'],
  },
  {
    name: 'api keys and client secrets',
    fields: {
      apiKey: 'ak-31',
      API_KEY: 'ak-32',
      client_secret: 'cs-33',
      ClientSecret: 'cs-34',
      private_key_pem: 'pk-35',
    },
    secrets: ['ak-31', 'ak-32', 'cs-33', 'cs-34', 'pk-35'],
  },
  {
    name: 'the log tag key itself',
    fields: { logKey: 'lk-41', ACTIONTRAIL_LOG_KEY: 'lk-42' },
    secrets: ['lk-41', 'lk-42'],
  },
  {
    name: 'nested objects and arrays',
    fields: {
      config: {
        database: { db_password: 'dbpw-51', url: 'sqlite:x.db' },
        auth: { os_password: 'ospw-52' },
      },
      req: { headers: { 'x-subject-token': 'xst-53', 'X-Auth-Token': 'xat-54' } },
      clients: [{ client_secret: 'cs-55' }, { credentials: { accessToken: 'at-56' } }],
    },
    secrets: ['dbpw-51', 'ospw-52', 'xst-53', 'xat-54', 'cs-55', 'at-56'],
  },
]

for (const c of SECRET_FIELDS) {
  test(`secret keys are redacted at any depth: ${c.name}`, () => {
    const log = captureLogger()
    log.logger.info(c.fields, 'configured')
    log.logger.child(c.fields).info('bound')
    const text = log.text()
    for (const s of c.secrets) assert.ok(!text.includes(s), `log contains ${s}`)
    assert.ok(text.includes('[redacted]'))
  })
}

test('keys that merely look alike, and ids, keep their values', () => {
  const log = captureLogger()
  log.logger.info(
    {
      token_count: 3,
      keystone_url: 'http://keystone:5000',
      bypass: 'on',
      monkey: 'kong',
      'idempotency-key': 'ik-1',
      nested: { host: 'c1', tokens_issued: 4 },
      user_id: USER_A,
      deep: { project_id: PROJECT_A },
    },
    'kept',
  )
  const [line] = log.lines()
  assert.ok(line)
  assert.equal(line.token_count, 3)
  assert.equal(line.keystone_url, 'http://keystone:5000')
  assert.equal(line.bypass, 'on')
  assert.equal(line.monkey, 'kong')
  assert.equal(line['idempotency-key'], 'ik-1')
  assert.deepEqual(line.nested, { host: 'c1', tokens_issued: 4 })
  // Ids are tags, not removed: the same id gives the same tag.
  assert.match(String(line.user_id), /^id:[0-9a-f]{16}$/)
  assert.match(String((line.deep as { project_id: string }).project_id), /^id:[0-9a-f]{16}$/)
  assert.ok(!log.text().includes(USER_A) && !log.text().includes(PROJECT_A))
})

test('at trace level, a malformed request on the wire leaves none of its bytes in the log', async (t) => {
  const chunks: string[] = []
  const destination = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString())
      cb()
    },
  })
  const { logger } = createLogger({ level: 'trace', key: 'k', destination })
  const stores = await openStores(':memory:')
  const app = await buildApp({
    service: createActionService(stores.actions),
    authenticator: new StaticTokenAuthenticator(TOKEN_ENTRIES),
    logger,
    idempotency: stores.idempotency,
  })
  t.after(async () => {
    await app.close()
    await stores.close()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  // A header line without a colon is an HTTP parse error: Fastify's client-error handler logs
  // the error at trace level, and Node attaches the raw request to it (`rawPacket`).
  const raw = `GET /v2.1/servers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${TOKENS.admin}\r\nbroken header\r\n\r\n`
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw))
    socket.on('data', () => undefined)
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  const logs = chunks.join('')
  assert.match(logs, /client error/, 'the client error is logged')
  assert.ok(!logs.includes(TOKENS.admin), 'no token in clear')
  const tokenBytes = [...Buffer.from(TOKENS.admin)].join(',')
  assert.ok(!logs.includes(tokenBytes), 'no token as a byte array')
})

// Issue 9: the logger matched keys on the raw text, so an invisible character inside a key name
// or a fullwidth spelling hid the secret from it. It now folds as the traceback sanitizer does.
const DISGUISED_KEYS: [string, string][] = [
  ['a zero-width space', 'pass\u200Bword'],
  ['a soft hyphen', 'pass\u00ADword'],
  ['a word joiner', 'api\u2060_key'],
  ['a variation selector', 'tok\uFE0Fen'],
  ['fullwidth letters', '\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44'],
  ['fullwidth and a zero-width joiner', 'db_\uFF50\uFF41\u200D\uFF53\uFF53\uFF57\uFF44'],
]

for (const [name, key] of DISGUISED_KEYS) {
  test(`a secret under a key disguised by ${name} is masked in the message and as a field`, () => {
    const log = captureLogger()
    const value = 'Hunter2-s3cret-value'
    log.logger.info(
      { [key]: value, nested: { [key]: value } },
      `connecting with ${key}=${value} now`,
    )
    log.logger.info(`{"${key}": "${value}"}`)
    const text = log.text()
    assert.ok(!text.includes(value), `the secret survived: ${text}`)
    assert.match(text, /connecting with/, 'the rest of the message stays')
    assert.equal(log.lines().length, 2)
  })
}

test('ids under keys disguised by invisible or fullwidth characters are tagged', () => {
  const log = captureLogger()
  log.logger.info({ ['user\u200B_id']: 'alice-1234', ['\uFF50roject_id']: 'acme-5678' }, 'x')
  const text = log.text()
  assert.ok(!text.includes('alice-1234') && !text.includes('acme-5678'), text)
})

test('ordinary keys and messages are logged unchanged', () => {
  const log = captureLogger()
  log.logger.info({ route: '/v1/batch', 'content-length': 12, bypass: 'yes' }, 'caf\u00e9 ready')
  const [line] = log.lines()
  assert.equal(line?.route, '/v1/batch')
  assert.equal(line?.['content-length'], 12)
  assert.equal(line?.bypass, 'yes')
  assert.equal(line?.msg, 'caf\u00e9 ready')
})
