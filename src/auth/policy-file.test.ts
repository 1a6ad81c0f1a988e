/**
 * Policy files: YAML or JSON, overrides and helper rules, and every refusal naming the file, the
 * line and the reason (what `serve` prints before it exits). Real files in a temporary directory.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { isAppError } from '../domain/errors.js'
import { loadAccessPolicy } from './policy-file.js'

function write(t: TestContext, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-policy-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

async function refusal(file: string): Promise<string> {
  try {
    await loadAccessPolicy(file)
  } catch (err) {
    assert.ok(isAppError(err, 'invalid_input'), String(err))
    return err.message
  }
  assert.fail('the policy file was accepted')
}

const reader = { userId: 'u1', projectId: 'p1', roles: ['reader'] }

describe('loading', () => {
  test('a YAML file overrides a default by name; the rest stay as shipped', async (t) => {
    const file = write(
      t,
      'policy.yaml',
      [
        '# let project readers see tracebacks and hosts',
        '"os_compute_api:os-instance-actions:events": "rule:project_reader_or_admin"',
        '',
      ].join('\n'),
    )
    const policy = await loadAccessPolicy(file)
    const target = { project_id: 'p1' }
    assert.equal(policy.allows('os_compute_api:os-instance-actions:events', reader, target), true)
    assert.equal(
      policy.allows('os_compute_api:os-instance-actions:events:details', reader, target),
      false,
    )
    const events = policy
      .describe()
      .find((r) => r.name === 'os_compute_api:os-instance-actions:events')
    assert.equal(events?.origin, 'overridden')
    assert.equal(events?.line, 2)
    assert.equal(events?.defaultCheck, 'rule:context_is_admin')
  })

  test('a JSON file works the same; helper rules may be added and referenced', async (t) => {
    const file = write(
      t,
      'policy.json',
      JSON.stringify(
        {
          auditor: 'role:auditor',
          'actiontrail:actions:query': 'rule:auditor or rule:context_is_admin',
        },
        null,
        2,
      ),
    )
    const warnings: string[] = []
    const policy = await loadAccessPolicy(file, (m) => warnings.push(m))
    assert.deepEqual(warnings, [])
    assert.equal(
      policy.allows('actiontrail:actions:query', { ...reader, roles: ['Auditor'] }),
      true,
    )
    assert.equal(policy.allows('actiontrail:actions:query', reader, { project_id: 'p1' }), false)
    assert.equal(policy.describe().find((r) => r.name === 'auditor')?.origin, 'added')
  })

  test('a rule nothing uses loads with a warning naming it and its line (a typo)', async (t) => {
    const file = write(t, 'p.yaml', '"os_compute_api:os-instance-action:list": "@"\n')
    const warnings: string[] = []
    const policy = await loadAccessPolicy(file, (m) => warnings.push(m))
    assert.equal(warnings.length, 1)
    assert.match(
      warnings[0] ?? '',
      /"os_compute_api:os-instance-action:list" \(line 1\) is not an ActionTrail rule/,
    )
    // The real rule is untouched.
    assert.equal(
      policy.allows('os_compute_api:os-instance-actions:list', reader, { project_id: 'p2' }),
      false,
    )
  })

  test('an empty file (or only comments) keeps the defaults', async (t) => {
    const policy = await loadAccessPolicy(write(t, 'p.yaml', '# nothing yet\n'))
    assert.ok(policy.describe().every((r) => r.origin === 'default'))
  })
})

describe('refusals name the file, the line and the reason', () => {
  const cases: [string, string, string, RegExp][] = [
    [
      'a check string that does not parse',
      'p.yaml',
      'context_is_admin: "role:admin"\n\n"actiontrail:write": "role:service or"\n',
      /p\.yaml: line 3: rule "actiontrail:write": expected a check after "or", found the end$/,
    ],
    [
      'an unknown rule reference',
      'p.yaml',
      '# comment\n"actiontrail:write": "rule:service_writers"\n',
      /line 2: rule "actiontrail:write": refers to unknown rule "service_writers"$/,
    ],
    [
      'a cycle through a default rule',
      'p.yaml',
      'a: "rule:context_is_admin"\ncontext_is_admin: "role:admin or rule:a"\n',
      /rule references form a cycle: (a -> context_is_admin -> a|context_is_admin -> a -> context_is_admin)$/,
    ],
    [
      'YAML that does not parse',
      'p.yaml',
      'context_is_admin: "role:admin"\nbad: [unclosed\n',
      /p\.yaml: line \d: /,
    ],
    [
      'a duplicate rule name',
      'p.yaml',
      'context_is_admin: "role:admin"\ncontext_is_admin: "role:reader"\n',
      /p\.yaml: line 2: Map keys must be unique/,
    ],
    [
      'JSON that does not parse (a trailing comma)',
      'p.json',
      '{\n  "context_is_admin": "role:admin",\n}\n',
      /p\.json: line 3: not valid JSON \(/,
    ],
    [
      'the legacy list-of-lists form',
      'p.json',
      '{\n  "context_is_admin": [["role:admin"]]\n}\n',
      /line 2: rule "context_is_admin": the legacy list-of-lists form is not supported/,
    ],
    [
      'a value that is not a string (YAML null would otherwise be read as "")',
      'p.yaml',
      'context_is_admin:\n',
      /line 1: rule "context_is_admin": expected a check string \(write "" to allow everyone/,
    ],
    [
      'a top level that is not a mapping',
      'p.yaml',
      '- role:admin\n',
      /line 1: expected a mapping of rule names to check strings/,
    ],
  ]
  for (const [name, file, text, reason] of cases) {
    test(name, async (t) => {
      assert.match(await refusal(write(t, file, text)), reason)
    })
  }

  test('a missing file', async () => {
    assert.match(
      await refusal('/nonexistent/actiontrail-policy.yaml'),
      /policy file \/nonexistent\/actiontrail-policy\.yaml: cannot be read \(ENOENT\)/,
    )
  })
})
