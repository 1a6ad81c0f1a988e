/**
 * Graceful shutdown of `actiontrail serve` (issue 14), on real processes: SIGTERM during a batch
 * whose body is still arriving stops new connections, lets that batch finish and answer, ends a
 * stream with `event: shutdown`, and exits 0 with every acknowledged write stored; a second signal
 * exits at once; a request that does not finish within the drain timeout does not keep the
 * process alive; and stopping `npm start` stops the server it started.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { openStores } from '../../src/store/open-store.js'
import { ROOT, spawnDemoServer, type SpawnedServer } from '../helpers/spawn-server.js'

const tokenOf = (server: SpawnedServer, role: string) =>
  server.tokens.find((e) => e.roles.includes(role as never))?.token ?? ''

/** A POST /v1/batch (NDJSON) whose body the test writes when it wants. */
function openBatch(server: SpawnedServer) {
  const req = http.request(`${server.url}/v1/batch`, {
    method: 'POST',
    headers: { 'x-auth-token': tokenOf(server, 'service'), 'content-type': 'application/x-ndjson' },
  })
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString('utf8')))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
  return { req, answer }
}

function exited(server: SpawnedServer): Promise<number | null> {
  const child = server.process
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })
    return false
  } catch {
    return true
  }
}

test('SIGTERM mid-batch: the batch answers, a stream gets `shutdown`, exit 0, nothing lost', async (t) => {
  const server = await spawnDemoServer(t)
  const vm = randomUUID()
  const ops = [
    { op: 'instance_put', instance_uuid: vm, name: 'drain', project_id: 'p', user_id: 'u' },
    ...Array.from({ length: 400 }, (_, i) => ({
      op: 'action_start',
      instance_uuid: vm,
      action: 'reboot',
      request_id: `req-${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
      user_id: 'u',
      project_id: 'p',
    })),
  ]
  const lines = ops.map((o) => JSON.stringify(o) + '\n')
  const stream = await fetch(`${server.url}/v1/stream`, {
    headers: { 'x-auth-token': tokenOf(server, 'admin') },
  })
  let streamText = ''
  const streamDone = (async () => {
    const decoder = new TextDecoder()
    for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>)
      streamText += decoder.decode(chunk)
  })()

  const { req, answer } = openBatch(server)
  req.write(lines.slice(0, 200).join(''))
  await sleep(300) // the request is in flight on the server
  server.process.kill('SIGTERM')
  await sleep(300)
  assert.ok(await refused(server.url), 'no new connections once stopping')
  req.end(lines.slice(200).join(''))
  const { status, body } = await answer
  assert.equal(status, 200, body)
  const results = (JSON.parse(body) as { results: { status: number }[] }).results
  assert.equal(results.length, ops.length)
  assert.ok(
    results.every((r) => r.status === 201),
    body.slice(0, 300),
  )
  assert.equal(await exited(server), 0)
  await streamDone
  assert.match(streamText, /event: shutdown\ndata: \{"resume_after":"\d+"\}\n\n$/)

  // Everything acknowledged is in the database.
  const stores = await openStores(join(server.dataDir, 'actiontrail.db'), { migrate: false })
  try {
    const stored = await stores.actions.searchActions({ instanceUuid: vm, limit: 1000 })
    assert.equal(stored.length, 400)
  } finally {
    await stores.close()
  }
})

test('a second signal exits at once; a drain timeout ends a request that never finishes', async (t) => {
  const twice = await spawnDemoServer(t)
  const hanging = openBatch(twice)
  hanging.answer.catch(() => undefined)
  hanging.req.write('{"op":')
  await sleep(300)
  twice.process.kill('SIGTERM')
  await sleep(200)
  assert.equal(twice.process.exitCode, null, 'still draining after the first signal')
  twice.process.kill('SIGTERM')
  assert.equal(await exited(twice), 1)
  hanging.req.destroy()

  const timed = await spawnDemoServer(t, ['--drain-timeout-ms', '500'])
  const stuck = openBatch(timed)
  stuck.answer.catch(() => undefined)
  stuck.req.write('{"op":')
  await sleep(300)
  timed.process.kill('SIGTERM')
  assert.equal(await exited(timed), 1)
  assert.match(timed.output(), /still in flight after 500 ms/)
  stuck.req.destroy()
})

test('stopping `npm start` stops the server it started', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-npm-start-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // The demo's tokens go next to the database, in the temporary directory.
  // A process group of its own, so that the end of the test can kill whatever is left of it.
  const npm = spawn('npm', ['start', '--', '--port', '0', '--db', join(dir, 'a.db')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  t.after(() => {
    try {
      process.kill(-(npm.pid as number), 'SIGKILL')
    } catch {
      // Nothing left: the group has exited.
    }
  })
  let output = ''
  npm.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')))
  npm.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not start:\n${output}`)), 60_000)
    npm.stdout.on('data', () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(output)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
  })
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
  const npmExit = new Promise((resolve) => npm.once('exit', resolve))
  // What a supervisor does: SIGTERM to the process it started (npm), not to npm's children.
  npm.kill('SIGTERM')
  await npmExit
  // The server (npm's child) stops too: its port stops answering.
  let stopped = false
  for (let i = 0; i < 50 && !stopped; i++) {
    stopped = await refused(url)
    if (!stopped) await sleep(200)
  }
  assert.ok(stopped, `the server still answers after npm exited:\n${output}`)
})
