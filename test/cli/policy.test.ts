/**
 * `actiontrail policy show|check` and `serve --policy-file`, run as the real command: the rules
 * in force with what a file changed, one decision with its exit code (0 allow, 1 deny, 2 bad
 * input), and a server that refuses to start on a broken file, naming the line and the reason.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import YAML from 'yaml'
import { runCli, type CliResult } from '../helpers/run-cli.js'
import { spawnDemoServer } from '../helpers/spawn-server.js'

/** Runs the command with no policy file from the environment unless `env` names one. */
const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runCli(args, { ACTIONTRAIL_POLICY_FILE: '', ...env })

function file(t: TestContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-policy-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const OVERRIDES = [
  '# readers see internals',
  '"os_compute_api:os-instance-actions:events": "rule:project_reader_or_admin"',
  'cloud_admin: "role:admin and system_scope:all"',
  'context_is_admin: "rule:cloud_admin"',
  '',
].join('\n')

describe('policy show', () => {
  test('the defaults, as a policy file that loads back to the same rules', async (t) => {
    const res = await cli(['policy', 'show'])
    assert.equal(res.code, 0, res.stderr)
    const rules = YAML.parse(res.stdout) as Record<string, string>
    assert.equal(rules['os_compute_api:os-instance-actions:events'], 'rule:context_is_admin')
    assert.equal(rules['actiontrail:write'], 'rule:service_or_admin')
    assert.doesNotMatch(res.stdout, /OVERRIDDEN|ADDED/)
    // Fed back as a policy file, it changes nothing.
    const again = await cli(['policy', 'show', '--policy-file', file(t, 'all.yaml', res.stdout)])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.replace(/^# OVERRIDDEN.*\n/gm, '# default\n'), res.stdout)
  })

  test('with a file: overridden rules marked with line and default, additions marked', async (t) => {
    const path = file(t, 'policy.yaml', OVERRIDES)
    const res = await cli(['policy', 'show', '--policy-file', path])
    assert.equal(res.code, 0, res.stderr)
    assert.ok(
      res.stdout.includes(
        '# OVERRIDDEN at line 2; default: "rule:context_is_admin"\n' +
          '"os_compute_api:os-instance-actions:events": "rule:project_reader_or_admin"\n',
      ),
      res.stdout,
    )
    assert.match(res.stdout, /# ADDED by the policy file at line 3\n"cloud_admin": /)
    const json = await cli(['policy', 'show', '--json'], { ACTIONTRAIL_POLICY_FILE: path })
    const rows = JSON.parse(json.stdout) as { name: string; origin: string; line?: number }[]
    assert.deepEqual(
      rows.filter((r) => r.origin !== 'default').map((r) => [r.name, r.origin, r.line]),
      [
        ['context_is_admin', 'overridden', 4],
        ['os_compute_api:os-instance-actions:events', 'overridden', 2],
        ['cloud_admin', 'added', 3],
      ],
    )
  })
})

describe('policy check', () => {
  const events = 'os_compute_api:os-instance-actions:events'
  const list = 'os_compute_api:os-instance-actions:list'
  /** `actiontrail policy check` with args. */
  const check = (...args: string[]) => cli(['policy', 'check', ...args])

  test('allow exits 0, deny exits 1; implied roles and the target project count', async () => {
    const allow = await check('--roles', 'member', '--project', 'p1', list)
    assert.deepEqual([allow.code, allow.stdout], [0, 'allow\n'])
    const other = await check(
      '--roles',
      'member',
      '--project',
      'p1',
      '--target',
      'project_id=p2',
      list,
    )
    assert.deepEqual([other.code, other.stdout], [1, 'deny\n'])
    const service = await check('--token-roles', 'service', '--project', 'p1', list)
    assert.deepEqual([service.code, service.stdout], [1, 'deny\n'])
    const admin = await check('--roles', 'Admin', events)
    assert.deepEqual([admin.code, admin.stdout], [0, 'allow\n'])
  })

  test('with a file: what it grants and what it takes away, system scope included', async (t) => {
    const path = file(t, 'policy.yaml', OVERRIDES)
    const inFile = (...args: string[]) => check('--policy-file', path, ...args)
    const reader = await inFile('--roles', 'reader', '--project', 'p1', events)
    assert.deepEqual([reader.code, reader.stdout], [0, 'allow\n'])
    const projectAdmin = await inFile(
      '--roles',
      'admin',
      '--project',
      'p9',
      '--target',
      'project_id=p1',
      events,
    )
    assert.deepEqual([projectAdmin.code, projectAdmin.stdout], [1, 'deny\n'])
    const systemAdmin = await inFile(
      '--roles',
      'admin',
      '--system-scope',
      'all',
      '--target',
      'project_id=p1',
      events,
    )
    assert.deepEqual([systemAdmin.code, systemAdmin.stdout], [0, 'allow\n'])
  })

  test('an unknown rule, a bad --target or a broken file: exit 2 with one clear line', async (t) => {
    const unknown = await check('--roles', 'admin', 'os_compute_api:nope')
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stderr, 'actiontrail: unknown policy rule "os_compute_api:nope"\n')
    const target = await check('--target', 'project_id', list)
    assert.equal(target.code, 2)
    assert.match(target.stderr, /--target expects key=value/)
    const broken = file(t, 'broken.yaml', 'context_is_admin: "role:admin"\nx: "role:a and"\n')
    const res = await check('--policy-file', broken, '--roles', 'admin', list)
    assert.equal(res.code, 2)
    assert.match(res.stderr, /broken\.yaml: line 2: rule "x": expected a check after "and"/)
    assert.doesNotMatch(res.stderr, /\n\s+at /)
  })
})

describe('serve --policy-file', () => {
  test('a broken policy file stops start-up naming the line and the reason', async (t) => {
    const tokens = file(
      t,
      'tokens.json',
      JSON.stringify({
        tokens: [{ token: 'tok-admin-1', user_id: 'u', project_id: 'p', roles: ['admin'] }],
      }),
    )
    const policy = file(t, 'policy.yaml', '"actiontrail:write": "rule:writers"\n')
    const res = await cli(
      ['serve', '--port', '0', '--db', ':memory:', '--tokens', tokens, '--policy-file', policy],
      { ACTIONTRAIL_TOKENS: '', ACTIONTRAIL_LOG_LEVEL: 'silent' },
    )
    assert.equal(res.code, 2)
    assert.match(
      res.stderr,
      /policy file .*policy\.yaml: line 1: rule "actiontrail:write": refers to unknown rule "writers"/,
    )
  })

  test('a policy file is in force in the running server; a rule with no effect is warned', async (t) => {
    const policy = file(
      t,
      'policy.yaml',
      '"actiontrail:actions:query": "rule:context_is_admin"\n"actiontrail:action:query": "@"\n',
    )
    const server = await spawnDemoServer(t, ['--policy-file', policy])
    const get = (token: string) =>
      fetch(`${server.url}/v1/actions?limit=1`, { headers: { 'x-auth-token': token } })
    const member = server.tokens.find((e) => e.roles.includes('member'))
    const admin = server.tokens.find((e) => e.roles.includes('admin'))
    assert.ok(member && admin)
    assert.equal((await get(member.token)).status, 403)
    assert.equal((await get(admin.token)).status, 200)
    assert.match(
      server.output(),
      /policy rule \\"actiontrail:action:query\\" \(line 2\) is not an ActionTrail rule/,
    )
  })
})
