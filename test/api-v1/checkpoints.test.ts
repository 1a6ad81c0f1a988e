/**
 * `GET /v1/checkpoints` (issue 13): admins page through the signed checkpoints, oldest first, each
 * with what an auditor needs to check it offline; everyone else is refused; bad parameters are a
 * 400 in the v1 error format. The periodic writer adds one only when the head has moved.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkpointSignatureValid,
  loadSigningKey,
} from '../../src/security/chain/checkpoint-signature.js'
import { generateSigningKeyPair } from '../../src/security/chain/checkpoint-signature.js'
import { checkpointIfMoved } from '../../src/store/chain/periodic-checkpoints.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildHarness, TOKENS } from '../helpers/build-app.js'
import { seedCreateStop } from '../helpers/seed.js'
import { assertV1Error, ok, v1 } from './v1-helpers.js'

function signingKey(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'actiontrail-key-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'key.pem')
  writeFileSync(file, generateSigningKeyPair().privatePem)
  return loadSigningKey(file)
}

test('admins list the checkpoints, each verifiable with the public key; others are refused', async (t) => {
  const h = await buildHarness(t)
  const key = signingKey(t)
  const now = () => '2026-01-01T12:00:00.000000'
  assert.equal(
    await checkpointIfMoved({ log: h.checkpoints, key, now }),
    undefined,
    'nothing chained',
  )
  await seedCreateStop(h)
  const first = await checkpointIfMoved({ log: h.checkpoints, key, now })
  assert.ok(first)
  assert.equal(
    await checkpointIfMoved({ log: h.checkpoints, key, now }),
    undefined,
    'head not moved',
  )
  await h.store.putInstance({
    uuid: '44444444-4444-4444-8444-444444444444',
    name: 'x',
    projectId: 'p',
    userId: 'u',
    now: now() as never,
  })
  assert.equal(
    await checkpointIfMoved({ log: h.checkpoints, key, now }),
    undefined,
    'instances are not chained',
  )
  await h.checkpoints.write(key, { reason: 'manual', now: now() })

  const page = ok(
    await v1(h, 'GET', '/v1/checkpoints?limit=1', undefined, { token: TOKENS.admin }),
    200,
  )
  const [c] = page.checkpoints as Record<string, unknown>[]
  assert.equal(c!.id, first.id)
  assert.equal(c!.reason, 'periodic')
  assert.equal(page.next_after, first.id)
  const statement = {
    position: c!.position as number,
    link: c!.link as string,
    createdAt: c!.created_at as string,
    reason: c!.reason as string,
    summary: c!.summary as string,
  }
  assert.ok(checkpointSignatureValid(key.publicKey, statement, c!.signature as string))
  assert.deepEqual(JSON.parse(statement.summary), { actions: 2, events: 1 })
  const rest = ok(
    await v1(h, 'GET', `/v1/checkpoints?after=${first.id}`, undefined, { token: TOKENS.admin }),
    200,
  )
  assert.deepEqual(
    (rest.checkpoints as { reason: string }[]).map((x) => x.reason),
    ['manual'],
  )
  assert.equal(rest.next_after, null)

  for (const token of [TOKENS.readerA, TOKENS.memberA, TOKENS.serviceA])
    assertV1Error(await v1(h, 'GET', '/v1/checkpoints', undefined, { token }), 403, 'forbidden')
  for (const query of [
    'limit=0',
    'limit=1001',
    'after=-1',
    'after=x',
    'bogus=1',
    'limit=1&limit=2',
  ])
    assertV1Error(
      await v1(h, 'GET', `/v1/checkpoints?${query}`, undefined, { token: TOKENS.admin }),
      400,
      'invalid_input',
    )
})
