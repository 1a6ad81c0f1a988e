/**
 * The configuration file (`--config FILE` / ACTIONTRAIL_CONFIG) and `actiontrail config show`,
 * through the real command and a real `serve`: the file's values take effect everywhere (also in
 * readers of the environment outside config.ts), the environment wins over the file and a flag
 * over the environment, a bad file stops start-up naming the key, and secrets are never printed.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { freePort } from '../helpers/free-port.js'
import { runCli } from '../helpers/run-cli.js'
import { spawnServe } from '../helpers/spawn-server.js'

const ADMIN_TOKEN = 'config-test-admin-token-0001'
const SECRETS = {
  logKey: 'log-key-never-printed-7f3a',
  cursor: 'cursor-secret-never-printed-91b2',
  dbPassword: 'db-pw-never-printed-55c1',
  amqpPassword: 'amqp-pw-never-printed-0e4d',
  keystone: 'keystone-pw-never-printed-c3d9',
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-config-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text, { mode: 0o600 })
  return path
}

function tokenFile(dir: string): string {
  return writeFile(
    dir,
    'tokens.json',
    JSON.stringify({
      tokens: [{ token: ADMIN_TOKEN, user_id: 'u-admin', project_id: 'p-admin', roles: ['admin'] }],
    }),
  )
}

function assertNoSecret(text: string): void {
  for (const secret of Object.values(SECRETS)) assert.ok(!text.includes(secret), `leaks ${secret}`)
}

test('serve takes its port, log level, token file and a stream setting from the file', async (t) => {
  const dir = tempDir(t)
  const port = await freePort()
  const config = writeFile(
    dir,
    'actiontrail.yaml',
    [
      'database:',
      `  url: ${join(dir, 'at.db')}`,
      'http:',
      `  port: ${port}`,
      'auth:',
      `  tokens_file: ${tokenFile(dir)}`,
      'log:',
      '  level: warn',
      'stream:',
      '  max_subscribers: 0',
      '',
    ].join('\n'),
  )
  const server = await spawnServe(t, ['--config', config], { cwd: dir })
  assert.equal(server.url, `http://127.0.0.1:${port}`)
  // stream.max_subscribers is read by the stream route: 0 places, so every stream is refused.
  const stream = await fetch(`${server.url}/v1/stream`, {
    headers: { 'x-auth-token': ADMIN_TOKEN, accept: 'text/event-stream' },
  })
  assert.equal(stream.status, 503)
  assert.equal(
    ((await stream.json()) as { error: { code: string } }).error.code,
    'too_many_streams',
  )
  // At warn, Fastify's info line "Server listening at" is not logged.
  assert.doesNotMatch(server.output(), /"level":30/)
  assert.ok(existsSync(join(dir, 'at.db')), 'the database named by the file')
})

test('the environment overrides the file, a flag overrides the environment', async (t) => {
  const dir = tempDir(t)
  const [filePort, envPort, flagPort] = [await freePort(), await freePort(), await freePort()]
  const config = writeFile(
    dir,
    'c.yaml',
    `http:\n  port: ${filePort}\nauth:\n  mode: noauth\ndatabase:\n  url: ${join(dir, 'a.db')}\n`,
  )
  const viaEnv = await spawnServe(t, [], {
    cwd: dir,
    env: { ACTIONTRAIL_CONFIG: config, ACTIONTRAIL_PORT: String(envPort) },
  })
  assert.equal(viaEnv.url, `http://127.0.0.1:${envPort}`)
  await viaEnv.stop()
  const viaFlag = await spawnServe(t, ['--config', config, '--port', String(flagPort)], {
    cwd: dir,
    env: { ACTIONTRAIL_PORT: String(envPort) },
  })
  assert.equal(viaFlag.url, `http://127.0.0.1:${flagPort}`)
})

test('the file reaches commands that read the environment themselves (log-tag, migrate)', async (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'from-file.db')
  const config = writeFile(
    dir,
    'c.yaml',
    `log:\n  key: ${SECRETS.logKey}\ndatabase:\n  url: ${db}\n`,
  )
  const fromFile = await runCli(['log-tag', '--config', config, 'req-1'])
  const fromFlag = await runCli(['log-tag', '--log-key', SECRETS.logKey, 'req-1'])
  assert.equal(fromFile.code, 0, fromFile.stderr)
  assert.equal(fromFile.stdout, fromFlag.stdout)
  assert.equal(fromFile.stderr, '')
  // A file holding a secret that every user can read is named in a warning (never the secret).
  chmodSync(config, 0o644)
  const exposed = await runCli(['log-tag', '--config', config, 'req-1'])
  assert.equal(exposed.stdout, fromFlag.stdout)
  assert.match(
    exposed.stderr,
    /warning: .*c\.yaml holds secrets \(log\.key\) and every user can read it/,
  )
  assertNoSecret(exposed.stderr)
  const migrated = await runCli(['migrate'], { ACTIONTRAIL_CONFIG: config })
  assert.equal(migrated.code, 0, migrated.stderr)
  assert.ok(existsSync(db))
})

test('an unknown key, a bad value or a bad file stops start-up naming the key and the file', async (t) => {
  const dir = tempDir(t)
  const cases: { text: string; message: RegExp }[] = [
    { text: 'http:\n  prot: 8774\n', message: /c\.yaml: unknown setting "http\.prot"/ },
    {
      text: 'htpp:\n  port: 8774\n',
      message: /unknown setting "htpp" \(the sections are database, http/,
    },
    {
      text: 'http:\n  port: 70000\n',
      message: /c\.yaml: http\.port must be an integer from 0 to 65535/,
    },
    { text: 'http:\n  port: "80"\n', message: /http\.port must be an integer/ },
    { text: 'log:\n  level: loud\n', message: /log\.level must be one of fatal, error, warn/ },
    { text: 'api:\n  stuck_after: soon\n', message: /api\.stuck_after must be a duration/ },
    { text: '- a list\n', message: /must be a mapping of sections/ },
    {
      text: `database:\n  url: postgres://u:${SECRETS.dbPassword}@h/db\n  pool_max: many\n`,
      message: /database\.pool_max must be an integer from 1 to 1000/,
    },
    {
      text: `keystone:\n  password: [${SECRETS.keystone}]\n`,
      message: /keystone\.password must be non-empty text/,
    },
    {
      text: `log:\n  key: "${SECRETS.logKey}\n  level: info\n`,
      message: /c\.yaml: not valid YAML at line \d+/,
    },
    { text: 'http:\n  port: 1\n  port: 2\n', message: /not valid YAML at line 3.*DUPLICATE_KEY/ },
  ]
  for (const { text, message } of cases) {
    const config = writeFile(dir, 'c.yaml', text)
    const r = await runCli(['serve', '--config', config, '--port', '0'])
    assert.equal(r.code, 2, text)
    assert.match(r.stderr, message, text)
    assert.ok(r.stderr.includes(config), `names the file: ${r.stderr}`)
    assertNoSecret(r.stderr + r.stdout)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
  const missing = await runCli(['serve'], { ACTIONTRAIL_CONFIG: join(dir, 'nope.yaml') })
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /cannot read the configuration file .*nope\.yaml \(ENOENT\)/)
  // A value only the server's own checks refuse is named with where the file set it.
  const tls = writeFile(dir, 'tls.yaml', 'http:\n  tls_cert: /etc/ssl/at.pem\n')
  const r = await runCli(['serve', '--config', tls])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /ACTIONTRAIL_TLS_CERT is http\.tls_cert in .*tls\.yaml/)
})

test('config show: each value with its source, secrets masked; --json; exit 2 when invalid', async (t) => {
  const dir = tempDir(t)
  const config = writeFile(
    dir,
    'c.yaml',
    [
      'database:',
      `  url: postgres://actiontrail:${SECRETS.dbPassword}@db.example:5432/at`,
      'http:',
      '  port: 9001',
      '  host: 0.0.0.0',
      '  trust_proxy: [10.0.0.5, 10.1.0.0/16]',
      'log:',
      '  level: debug',
      `  key: ${SECRETS.logKey}`,
      'api:',
      `  cursor_secret: ${SECRETS.cursor}`,
      'chain:',
      '  signing_key: /etc/actiontrail/signing.pem',
      'nova:',
      `  amqp_url: amqp://nova:${SECRETS.amqpPassword}@rabbit:5672/`,
      'keystone:',
      `  password: ${SECRETS.keystone}`,
      '',
    ].join('\n'),
  )
  const r = await runCli(['config', 'show', '--config', config, '--json', '--log-level', 'warn'], {
    ACTIONTRAIL_HOST: '127.0.0.2',
  })
  assert.equal(r.code, 0, r.stderr)
  assertNoSecret(r.stdout + r.stderr)
  const shown = JSON.parse(r.stdout) as {
    file: string
    settings: { key: string; env: string; value: string | null; source: string }[]
  }
  assert.equal(shown.file, config)
  const by = new Map(shown.settings.map((s) => [s.key, s]))
  const expect = (key: string, value: string | null, source: string) =>
    assert.deepEqual([by.get(key)?.value, by.get(key)?.source], [value, source], key)
  expect('http.port', '9001', 'file')
  expect('http.host', '127.0.0.2', 'env')
  expect('log.level', 'warn', 'flag')
  expect('http.trust_proxy', '10.0.0.5,10.1.0.0/16', 'file')
  expect('stream.poll_ms', '50', 'default')
  expect('http.public_url', null, 'unset')
  expect('log.key', '***', 'file')
  expect('api.cursor_secret', '***', 'file')
  expect('keystone.password', '***', 'file')
  expect('database.url', 'postgres://actiontrail:***@db.example:5432/at', 'file')
  expect('nova.amqp_url', 'amqp://nova:***@rabbit:5672/', 'file')
  expect('chain.signing_key', '/etc/actiontrail/signing.pem', 'file')
  assert.equal(by.get('http.port')?.env, 'ACTIONTRAIL_PORT')
  // Every setting of the schema is listed, the rate limits and read replica among them.
  for (const key of ['http.rate_limit', 'database.read_url', 'database.conflict_retries'])
    assert.ok(by.has(key), key)

  const table = await runCli(['config', 'show'], {
    ACTIONTRAIL_CONFIG: config,
    ACTIONTRAIL_METRICS_TOKEN: 'metrics-token-never-printed',
  })
  assert.equal(table.code, 0, table.stderr)
  assertNoSecret(table.stdout)
  assert.ok(!table.stdout.includes('metrics-token-never-printed'))
  assert.match(table.stdout, /^api\.metrics_token\s+\*\*\*\s+env\s+ACTIONTRAIL_METRICS_TOKEN$/m)
  assert.match(table.stdout, /^http\.port\s+9001\s+file\s+ACTIONTRAIL_PORT$/m)

  const bad = writeFile(
    dir,
    'bad.yaml',
    `log:\n  key: ${SECRETS.logKey}\nhttp:\n  tls_key: /k.pem\n`,
  )
  const invalid = await runCli(['config', 'show', '--config', bad])
  assert.equal(invalid.code, 2)
  assert.equal(invalid.stdout, '')
  assert.match(invalid.stderr, /ACTIONTRAIL_TLS_KEY is http\.tls_key in .*bad\.yaml/)
  assertNoSecret(invalid.stderr)
  const unknown = await runCli(['config', 'show', '--config', writeFile(dir, 'u.yaml', 'x: 1\n')])
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /unknown setting "x"/)
})
