/**
 * `actiontrail actions tail` follows GET /v1/stream and keeps following it. Against a scripted
 * SSE server (the protocol's every case on demand): resume after `overflow` from `resume_after`,
 * after a dropped connection with `Last-Event-ID` = the last position printed, `--after`, filters
 * passed through, one line per message, Ctrl-C exits 0, a refused stream is one line and exit 1.
 * Against the real server (when it has /v1/stream, branch h-stream): changes written through the
 * API are printed once each, in position order, across a server restart on the same database.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { ActionTrailClient } from '../../src/client/action-trail-client.js'
import { runCli, startCli } from '../helpers/run-cli.js'
import { spawnDemoServer } from '../helpers/spawn-server.js'

type Message = Record<string, unknown> & { id: string; type: string }

/** Collects a child's stdout as lines and stderr as text. */
function watch(child: ChildProcess) {
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (partial + d.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
  return { lines, stderr: () => stderr, exited }
}

async function waitFor(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function sse(res: ServerResponse, id: string, event: string, data: unknown): void {
  res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}

function actionData(requestId: string, finished: boolean) {
  return {
    action: {
      instance_uuid: '11111111-2222-4333-8444-555555555555',
      action: 'resize',
      request_id: requestId,
      user_id: 'u1',
      project_id: 'p1',
      start_time: '2026-12-06T10:00:00.000000',
      finish_time: finished ? '2026-12-06T10:00:05.000000' : null,
      message: null,
      created_at: '2026-12-06T10:00:00.000000',
      updated_at: '2026-12-06T10:00:05.000000',
    },
  }
}

/** A scripted SSE server: `script(n, req, res)` answers its n-th request (from 1). */
async function scriptedServer(
  t: TestContext,
  script: (n: number, req: IncomingMessage, res: ServerResponse) => void,
) {
  const requests: IncomingMessage[] = []
  const server = createServer((req, res) => {
    requests.push(req)
    script(requests.length, req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, requests }
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.write('retry: 50\n: ready\n\n')
}

test('tail resumes after overflow and after a dropped connection, printing each change once', async (t) => {
  const server = await scriptedServer(t, (n, req, res) => {
    startStream(res)
    if (n === 1) {
      sse(res, '5', 'action', actionData('req-5', false))
      sse(res, '6', 'action', actionData('req-6', true))
      res.write(`event: overflow\ndata: ${JSON.stringify({ resume_after: '6' })}\n\n`)
      res.end()
    } else if (n === 2) {
      sse(res, '7', 'action', actionData('req-7', true))
      // A connection cut without a proper end, as a crashed server or a proxy leaves it.
      setTimeout(() => req.socket.destroy(), 50)
    } else {
      sse(res, '8', 'event', {
        instance_uuid: '11111111-2222-4333-8444-555555555555',
        request_id: 'req-7',
        action: 'resize',
        event: {
          event: 'compute_resize_instance',
          start_time: '2026-12-06T10:00:01.000000',
          finish_time: null,
          result: null,
          created_at: '2026-12-06T10:00:01.000000',
          updated_at: null,
        },
      })
    }
  })
  const token = 'tail-test-token-77aa'
  const child = startCli(
    [
      'actions',
      'tail',
      '--format',
      'ndjson',
      '--after',
      '4',
      '--action',
      'resize',
      '--action',
      'reboot',
    ],
    { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: token },
  )
  const out = watch(child)
  t.after(() => child.kill('SIGKILL'))
  await waitFor('four messages', () => out.lines.length >= 4, 30_000)
  const messages = out.lines.map((l) => JSON.parse(l) as Message)
  assert.deepEqual(
    messages.map((m) => [m.id, m.type]),
    [
      ['5', 'action'],
      ['6', 'action'],
      ['7', 'action'],
      ['8', 'event'],
    ],
  )
  assert.deepEqual(messages[0], { id: '5', type: 'action', ...actionData('req-5', false) })
  const resumedFrom = server.requests.map((r) => r.headers['last-event-id'])
  assert.deepEqual(resumedFrom.slice(0, 3), ['4', '6', '7'])
  for (const r of server.requests) {
    assert.equal(r.headers['x-auth-token'], token)
    const url = new URL(r.url ?? '', server.url)
    assert.equal(url.pathname, '/v1/stream')
    assert.deepEqual(url.searchParams.getAll('action'), ['resize', 'reboot'])
  }
  child.kill('SIGINT')
  assert.equal(await out.exited, 0, 'Ctrl-C exits 0')
  assert.match(out.stderr(), /overflow/)
  assert.ok(!out.stderr().includes(token))
})

test('tail prints one line per change in table format; a refused stream is one line, exit 1', async (t) => {
  const server = await scriptedServer(t, (_n, req, res) => {
    if (req.headers['x-auth-token'] === 'bad-token-123') {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Bad token.' } }))
      return
    }
    startStream(res)
    sse(res, '1', 'action', {
      action: { ...actionData('req-err', true).action, message: 'Error' },
    })
  })
  const env = { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: 'good-token-456' }
  const child = startCli(['actions', 'tail'], { ...env, COLUMNS: '70', FORCE_COLOR: '1' })
  const out = watch(child)
  t.after(() => child.kill('SIGKILL'))
  await waitFor('a line', () => out.lines.length >= 1, 30_000)
  const line = out.lines[0] ?? ''
  assert.match(line, /^2026-12-06 10:00:05 {2}action {2}resize\s+/)
  assert.ok(line.includes('\u001b[31merror'), 'error in red when colours are forced')
  child.kill('SIGINT')
  assert.equal(await out.exited, 0)

  const refused = await runCli(['actions', 'tail'], { ...env, ACTIONTRAIL_TOKEN: 'bad-token-123' })
  assert.equal(refused.code, 1)
  assert.equal(refused.stderr.trimEnd().split('\n').length, 1)
  assert.match(refused.stderr, /^actiontrail: authentication failed \(401\): Bad token\./)
  assert.ok(!refused.stderr.includes('bad-token-123'))

  const csv = await runCli(['actions', 'tail', '--format', 'csv'], env)
  assert.equal(csv.code, 2, 'csv is not a tail format')
})

test('tail against the real server: every change once, in order, across a server restart', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'actiontrail-tail-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  let server = await spawnDemoServer(t, [], { dataDir })
  const admin = server.tokens[0]?.token ?? ''
  const nova = server.tokens.find((e) => e.roles.includes('service'))
  assert.ok(nova)
  const probe = await fetch(`${server.url}/v1/stream`, {
    headers: { 'x-auth-token': admin },
    signal: AbortSignal.timeout(10_000),
  })
  await probe.body?.cancel()
  if (probe.status === 404) {
    t.skip('GET /v1/stream is not on this server yet (branch h-stream)')
    return
  }
  const port = new URL(server.url).port
  const instanceUuid = '1f3b5d7e-0a2c-4e6f-8a1b-3c5d7e9f0a21'
  const write = async (url: string, requestId: string) => {
    const client = new ActionTrailClient({ baseUrl: url, token: nova.token, retries: 5 })
    await client.actionStart({
      instanceUuid,
      action: 'tail-test',
      requestId,
      userId: nova.user_id,
      projectId: nova.project_id,
    })
    await client.close()
  }
  await write(server.url, 'req-tail-marker')
  const child = startCli(['actions', 'tail', '--format', 'ndjson', '--after', '0'], {
    ACTIONTRAIL_URL: server.url,
    ACTIONTRAIL_TOKEN: admin,
  })
  const out = watch(child)
  t.after(() => child.kill('SIGKILL'))
  const printed = () => out.lines.map((l) => JSON.parse(l) as Message)
  const isFor = (requestId: string) => (m: Message) =>
    m.type === 'action' && (m.action as { request_id?: string }).request_id === requestId
  const seen = (requestId: string) => () => printed().some(isFor(requestId))
  await waitFor('the marker', seen('req-tail-marker'))
  await write(server.url, 'req-tail-before-restart')
  await waitFor('the change before the restart', seen('req-tail-before-restart'))

  const stopped = new Promise((r) => server.process.once('exit', r))
  server.process.kill('SIGTERM')
  await stopped
  server = await spawnDemoServer(t, ['--port', port], { dataDir })
  await write(server.url, 'req-tail-after-restart')
  await waitFor('the change after the restart', seen('req-tail-after-restart'))

  const ids = printed().map((m) => BigInt(m.id))
  for (let i = 1; i < ids.length; i += 1)
    assert.ok((ids[i] ?? 0n) > (ids[i - 1] ?? 0n), 'positions strictly increase: none twice')
  // Each write is one change: printed exactly once, the restart notwithstanding.
  for (const requestId of ['req-tail-marker', 'req-tail-before-restart', 'req-tail-after-restart'])
    assert.equal(printed().filter(isFor(requestId)).length, 1, requestId)
  child.kill('SIGINT')
  assert.equal(await out.exited, 0)
  assert.ok(!out.stderr().includes(admin))
})

test('tail against the real server: a paused consumer overflows, resumes, and misses nothing', async (t) => {
  // A small per-subscriber buffer (as the server's own stream test) so that the overflow comes
  // soon after the socket's buffers are full. (At 4096 bytes the server's catch-up stalled after
  // a resume: reported to the stream's author.)
  process.env.ACTIONTRAIL_STREAM_BUFFER_BYTES = String(256 * 1024)
  t.after(() => delete process.env.ACTIONTRAIL_STREAM_BUFFER_BYTES)
  const server = await spawnDemoServer(t)
  const admin = server.tokens[0]?.token ?? ''
  const probe = await fetch(`${server.url}/v1/stream`, {
    headers: { 'x-auth-token': admin },
    signal: AbortSignal.timeout(10_000),
  })
  await probe.body?.cancel()
  if (probe.status === 404) {
    t.skip('GET /v1/stream is not on this server yet (branch h-stream)')
    return
  }
  const env = { ACTIONTRAIL_URL: server.url, ACTIONTRAIL_TOKEN: admin }
  const instance = '1f3b5d7e-0a2c-4e6f-8a1b-3c5d7e9f0a21'
  const args = ['actions', 'tail', '--format', 'ndjson', '--instance', instance, '--types', 'event']
  // Started at the head: a marker change shows that both are connected.
  const post = async (ops: unknown[]) => {
    const res = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: { 'x-auth-token': admin, 'content-type': 'application/json' },
      body: JSON.stringify(ops),
    })
    assert.equal(res.status, 200, await res.clone().text())
    const body = (await res.json()) as { results: { status: number }[] }
    assert.ok(body.results.every((r) => r.status < 300))
  }
  const base = { instance_uuid: instance, request_id: 'req-overflow' }
  await post([{ op: 'action_start', ...base, action: 'reboot', user_id: null, project_id: null }])
  const slow = startCli(args, env)
  const other = startCli(args, env)
  const slowOut = watch(slow)
  const otherOut = watch(other)
  t.after(() => {
    slow.kill('SIGCONT')
    slow.kill('SIGKILL')
    other.kill('SIGKILL')
  })
  const finished = (out: ReturnType<typeof watch>, event: string) => () =>
    out.lines.some((l) => {
      const m = JSON.parse(l) as { event?: { event?: string; result?: string } }
      return m.event?.event === event && m.event.result === 'Error'
    })
  for (let i = 0; ; i += 1) {
    await post([{ op: 'event_start', ...base, event: `marker${i}`, host: null }])
    const seen = (out: ReturnType<typeof watch>) =>
      out.lines.some((l) => l.includes(`"marker${i}"`))
    await new Promise((r) => setTimeout(r, 500))
    if (seen(slowOut) && seen(otherOut)) break
    assert.ok(i < 100, 'both tails connected')
  }
  slow.kill('SIGSTOP')
  // About 8 MB: more than the loopback socket's buffers on both sides, then the 256 KiB.
  const events = 400
  for (let i = 0; i < events; i += 50) {
    const ops: unknown[] = []
    for (let j = i; j < i + 50; j += 1) {
      ops.push({ op: 'event_start', ...base, event: `e${j}`, host: null })
      ops.push({
        op: 'event_finish',
        ...base,
        event: `e${j}`,
        result: 'Error',
        traceback: `${j} ${'x'.repeat(20_000)}`,
      })
    }
    await post(ops)
  }
  const last = `e${events - 1}`
  await waitFor('the reading tail to get every change', finished(otherOut, last))
  slow.kill('SIGCONT')
  await waitFor('the paused tail to catch up', finished(slowOut, last)).catch((err: Error) => {
    throw new Error(`${err.message}; its stderr: ${slowOut.stderr()}`)
  })
  assert.match(slowOut.stderr(), /overflow/, 'the paused tail was told it overflowed')
  const slowMessages = slowOut.lines.map((l) => JSON.parse(l) as Message)
  const ids = slowMessages.map((m) => BigInt(m.id))
  for (let i = 1; i < ids.length; i += 1)
    assert.ok((ids[i] ?? 0n) > (ids[i - 1] ?? 0n), 'positions strictly increase: none twice')
  for (let j = 0; j < events; j += 1)
    assert.ok(finished(slowOut, `e${j}`)(), `the paused tail got e${j}'s failure`)
  slow.kill('SIGINT')
  other.kill('SIGINT')
  assert.equal(await slowOut.exited, 0)
  assert.equal(await otherOut.exited, 0)
})
