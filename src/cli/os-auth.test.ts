import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CliError } from './cli-error.js'
import { resolveOsAuth } from './os-auth.js'

const OPENRC = {
  OS_AUTH_URL: 'http://keystone:5000',
  OS_USERNAME: 'env-user',
  OS_PASSWORD: 'env-secret',
  OS_PROJECT_NAME: 'env-project',
}

test('OS_* variables as an openrc sets them; flags win; domains default to Default', () => {
  assert.deepEqual(resolveOsAuth({}, OPENRC), {
    url: 'http://keystone:5000/v3',
    credentials: {
      kind: 'password',
      username: 'env-user',
      password: 'env-secret',
      project: 'env-project',
      userDomain: 'Default',
      projectDomain: 'Default',
    },
    interface: 'public',
  })
  const flags = resolveOsAuth(
    {
      osAuthUrl: 'https://k/identity/v3/',
      osUsername: 'u',
      osPassword: 'p',
      osProjectName: 'pr',
      osUserDomainName: 'ud',
      osProjectDomainName: 'pd',
      osRegionName: 'RegionTwo',
      osInterface: 'internalURL',
    },
    OPENRC,
  )
  assert.equal(flags.url, 'https://k/identity/v3')
  assert.deepEqual(flags.credentials, {
    kind: 'password',
    username: 'u',
    password: 'p',
    project: 'pr',
    userDomain: 'ud',
    projectDomain: 'pd',
  })
  assert.equal(flags.interface, 'internal')
  assert.equal(flags.region, 'RegionTwo')
})

test('--os-password-file: its content without the final newline, over $OS_PASSWORD', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-os-auth-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'password')
  writeFileSync(file, 'file secret \n')
  assert.equal(resolveOsAuth({ osPasswordFile: file }, OPENRC).credentials.password, 'file secret ')
  assert.throws(
    () => resolveOsAuth({ osPasswordFile: join(dir, 'none') }, OPENRC),
    /--os-password-file: cannot read the file \(ENOENT\)/,
  )
})

test('what is missing or wrong is named, never a value (usage errors, exit 2)', () => {
  const usage = (re: RegExp) => (err: unknown) =>
    err instanceof CliError && err.exitCode === 2 && re.test(err.message)
  assert.throws(
    () => resolveOsAuth({}, { OS_AUTH_URL: 'http://k/v3', OS_PASSWORD: 'hidden' }),
    usage(/^Keystone login: missing --os-username \(\$OS_USERNAME\), --os-project-name/),
  )
  assert.throws(() => resolveOsAuth({}, { ...OPENRC, OS_AUTH_URL: 'ftp://k' }), usage(/http\(s\)/))
  assert.throws(
    () => resolveOsAuth({ osInterface: 'private' }, OPENRC),
    usage(/--os-interface must be one of public, internal, admin/),
  )
  assert.throws(
    () => resolveOsAuth({}, { ...OPENRC, OS_PROJECT_NAME: '' }),
    (err: unknown) => err instanceof CliError && !err.message.includes('env-'),
  )
})
