/**
 * Packaging (issue 14) checked where no container engine runs: the Dockerfile parsed (two stages,
 * the last one non-root with a volume, a HEALTHCHECK on /healthz and an entry point that runs the
 * built `dist/`), its HEALTHCHECK command run against a real server (0 when it answers, 1 when
 * not), compose.yaml parsed (ActionTrail on PostgreSQL, started after the database is healthy),
 * and the systemd unit checked by `systemd-analyze verify` with its hardening present.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parse } from 'yaml'
import { tempDir } from '../helpers/backup-check.js'
import { ROOT, spawnDemoServer } from '../helpers/spawn-server.js'

const run = promisify(execFile)

/** The Dockerfile's instructions (continuation lines joined, comments dropped), by stage. */
function dockerStages(text: string): { instruction: string; args: string }[][] {
  const joined = text.replace(/\\\n/g, ' ')
  const stages: { instruction: string; args: string }[][] = []
  for (const raw of joined.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const [instruction = '', ...rest] = line.split(/\s+/)
    const entry = { instruction: instruction.toUpperCase(), args: rest.join(' ') }
    if (entry.instruction === 'FROM') stages.push([])
    const stage = stages[stages.length - 1]
    assert.ok(stage, `${line}: an instruction before the first FROM`)
    stage.push(entry)
  }
  return stages
}

test('Dockerfile: a build stage, then a slim non-root runtime with a volume, a health check, dist/', () => {
  const stages = dockerStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  assert.ok(stages.length >= 2, 'multi-stage')
  const last = stages[stages.length - 1] ?? []
  const get = (i: string) => last.filter((e) => e.instruction === i).map((e) => e.args)
  assert.match(get('FROM')[0] ?? '', /^node:20-\S*slim$/)
  const user = get('USER').at(-1)
  assert.ok(user && user !== 'root' && user !== '0', 'runs as a non-root user')
  assert.ok(get('VOLUME').some((v) => v.includes('/var/lib/actiontrail')))
  assert.ok(get('ENV').some((v) => v.includes('ACTIONTRAIL_DB=/var/lib/actiontrail/')))
  assert.ok(get('COPY').some((v) => v.startsWith('--from=build') && v.includes('/dist')))
  assert.deepEqual(JSON.parse(get('ENTRYPOINT')[0] ?? '[]'), ['node', 'bin/actiontrail.js'])
  assert.deepEqual(JSON.parse(get('CMD').at(-1) ?? '[]'), ['serve'])
  assert.match(get('HEALTHCHECK')[0] ?? '', /CMD \[.*\/healthz/)
  // Every instruction is one Docker knows (a typo would fail the build).
  const known = new Set([
    'FROM',
    'RUN',
    'COPY',
    'WORKDIR',
    'ENV',
    'USER',
    'VOLUME',
    'EXPOSE',
    'HEALTHCHECK',
    'ENTRYPOINT',
    'CMD',
    'ARG',
    'LABEL',
  ])
  for (const e of stages.flat()) assert.ok(known.has(e.instruction), e.instruction)
})

test("the image's HEALTHCHECK command: 0 against a serving ActionTrail, 1 when nothing answers", async (t) => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ')
  const cmd = JSON.parse(/HEALTHCHECK .*?CMD (\[.*\])\s*$/m.exec(text)?.[1] ?? '[]') as string[]
  assert.equal(cmd[0], 'node')
  const server = await spawnDemoServer(t)
  const port = new URL(server.url).port
  const ok = await run(process.execPath, cmd.slice(1), {
    env: { ...process.env, ACTIONTRAIL_PORT: port },
  })
  assert.equal(ok.stderr, '')
  await assert.rejects(
    run(process.execPath, cmd.slice(1), { env: { ...process.env, ACTIONTRAIL_PORT: '1' } }),
    (err: { code?: number }) => err.code === 1,
  )
})

test('compose.yaml: ActionTrail on PostgreSQL, after the database is healthy, data on volumes', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
    services: Record<string, Record<string, unknown>>
    volumes: Record<string, unknown>
  }
  const app = compose.services.actiontrail ?? {}
  const env = app.environment as Record<string, string>
  assert.match(env.ACTIONTRAIL_DB ?? '', /^postgres:\/\/[^@]+@db:5432\//)
  assert.deepEqual(app.depends_on, { db: { condition: 'service_healthy' } })
  assert.ok(compose.services.db?.healthcheck, 'the database has a health check')
  assert.ok((app.volumes as string[]).some((v) => v.endsWith(':/var/lib/actiontrail')))
  assert.ok('actiontrail-data' in compose.volumes && 'db-data' in compose.volumes)
})

test('the systemd unit: systemd-analyze verify, with the usual hardening', async (t) => {
  const unit = readFileSync(join(ROOT, 'packaging', 'actiontrail.service'), 'utf8')
  for (const line of [
    'DynamicUser=yes',
    'StateDirectory=actiontrail',
    'ProtectSystem=strict',
    'NoNewPrivileges=yes',
    'KillSignal=SIGTERM',
  ])
    assert.ok(unit.split('\n').includes(line), line)
  if (!existsSync('/usr/bin/systemd-analyze')) {
    t.skip('systemd-analyze is not installed')
    return
  }
  // verify also checks that ExecStart's program exists: point it at this checkout's command, and
  // the environment file at an empty one.
  const dir = tempDir(t)
  const env = join(dir, 'actiontrail.env')
  writeFileSync(env, '')
  const copy = join(dir, 'actiontrail.service')
  writeFileSync(
    copy,
    unit
      .replace(
        /^ExecStart=.*$/m,
        `ExecStart=${process.execPath} ${join(ROOT, 'bin', 'actiontrail.js')} serve`,
      )
      .replace(/^EnvironmentFile=.*$/m, `EnvironmentFile=${env}`),
  )
  const result = await run('systemd-analyze', ['verify', '--man=no', copy]).catch(
    (err: { stderr?: string; code?: number }) => err,
  )
  assert.equal((result as { code?: number }).code ?? 0, 0, (result as { stderr?: string }).stderr)
  assert.equal(((result as { stderr?: string }).stderr ?? '').trim(), '')
})
