/**
 * The IdempotencyStore contract, on every backend (like the ActionStore contract suite: a server
 * that does not answer is skipped loudly, or fails the run under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 * The store shares its database with the ActionStore opened beside it.
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type {
  IdempotencyStore,
  NewIdempotencyRecord,
  PutLimits,
} from '../../src/store/idempotency-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const ts = (s: string) => `2026-01-01T00:00:${s}` as Timestamp
const LIMITS: PutLimits = { maxStoredBytes: 64 * 1024, recordOverheadBytes: 100 }

function rec(keyHash: string, requestHash: string, status: number, body: string, at: string) {
  return { keyHash, requestHash, status, body, createdAt: ts(at), callerHash: 'caller' }
}

async function put(store: IdempotencyStore, r: NewIdempotencyRecord, limits = LIMITS) {
  return store.put(r, limits)
}

for (const name of BACKEND_NAMES) {
  const problem = await backendProblem(name)
  if (problem && REQUIRE_BACKENDS) {
    test(`IdempotencyStore contract: ${name} (required by ACTIONTRAIL_REQUIRE_BACKENDS=1)`, () =>
      assert.fail(problem))
    continue
  }
  const open = async (t: TestContext): Promise<IdempotencyStore> => {
    const [stores] = await openFreshStores(t, name)
    assert.ok(stores)
    return stores.idempotency
  }
  describe(`IdempotencyStore contract: ${name}`, { skip: problem ?? false }, () => {
    test('first writer wins, purge by age', async (t) => {
      const store = await open(t)
      await put(store, rec('k1', 'r1', 201, '{"a":1}', '01.000000'))
      await put(store, rec('k1', 'r2', 200, '{}', '02.000000'))
      await put(store, rec('k2', 'r3', 404, '{}', '09.000000'))
      const k1 = await store.get('k1')
      assert.ok(k1)
      assert.deepEqual(
        { ...k1, storedBytes: undefined },
        {
          keyHash: 'k1',
          requestHash: 'r1',
          status: 201,
          body: '{"a":1}',
          storedBytes: undefined,
          createdAt: ts('01.000000'),
        },
      )
      assert.equal(await store.purge(ts('05.000000')), 1)
      assert.equal(await store.get('k1'), undefined)
      assert.equal((await store.get('k2'))?.status, 404)
    })

    test('keys compare exactly; a key no backend can hold is simply not found', async (t) => {
      const store = await open(t)
      await put(store, rec('K', 'r1', 200, '{}', '01.000000'))
      await put(store, rec('k', 'r2', 201, '{}', '01.000000'))
      await put(store, rec('k ', 'r3', 202, '{}', '01.000000'))
      assert.deepEqual(
        await Promise.all(
          ['k', 'K', 'k ', 'k\u0000'].map(async (k) => (await store.get(k))?.status),
        ),
        [201, 200, 202, undefined],
      )
    })

    test('answers are stored compressed and come back byte for byte', async (t) => {
      const store = await open(t)
      const body = JSON.stringify({ results: Array.from({ length: 20_000 }, () => ({ s: 400 })) })
      const text = `${body}\u00e9\u{1F600}\u0000\n`
      const outcome = await put(store, rec('k', 'r', 200, text, '01.000000'))
      assert.equal(outcome.kept, true)
      assert.ok(outcome.storedBytes < text.length / 50, `${outcome.storedBytes} bytes`)
      assert.equal(outcome.chargedBytes, outcome.storedBytes + LIMITS.recordOverheadBytes)
      const got = await store.get('k')
      assert.equal(got?.body, text)
      assert.equal(got?.storedBytes, outcome.storedBytes)
    })

    test('an answer over maxStoredBytes leaves a marker: digest, status and size, no body', async (t) => {
      const store = await open(t)
      const body = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 10007).join(',')
      const outcome = await put(store, rec('k', 'r', 200, body, '01.000000'), {
        maxStoredBytes: 100,
        recordOverheadBytes: 10,
      })
      assert.equal(outcome.kept, false)
      assert.ok(outcome.storedBytes > 100)
      assert.equal(outcome.chargedBytes, 10)
      assert.deepEqual(await store.get('k'), {
        keyHash: 'k',
        requestHash: 'r',
        status: 200,
        body: undefined,
        storedBytes: outcome.storedBytes,
        createdAt: ts('01.000000'),
      })
    })

    test('usage is counted per caller and hour slice, not twice for a key, and purged with its answers', async (t) => {
      const store = await open(t)
      const at = (hour: string) => `2026-01-01T${hour}:30:00.000000` as Timestamp
      const limits = { maxStoredBytes: 1024, recordOverheadBytes: 100 }
      const a = await store.put({ ...rec('a', 'r', 200, '{}', '00'), createdAt: at('01') }, limits)
      // Another node's concurrent first use of the key: not stored, not counted.
      await store.put(
        {
          ...rec('a', 'r2', 200, '{"y":2}', '00'),
          createdAt: '2026-01-01T01:30:00.000001' as Timestamp,
        },
        limits,
      )
      const b = await store.put(
        { ...rec('b', 'r', 200, '{"x":1}', '00'), createdAt: at('01') },
        limits,
      )
      const c = await store.put({ ...rec('c', 'r', 200, '{}', '00'), createdAt: at('03') }, limits)
      await store.put(
        { ...rec('d', 'r', 200, '{}', '00'), createdAt: at('03'), callerHash: 'other' },
        limits,
      )
      assert.deepEqual(await store.usage('caller', at('00')), [
        { start: '2026-01-01T01:00:00.000000', bytes: a.chargedBytes + b.chargedBytes },
        { start: '2026-01-01T03:00:00.000000', bytes: c.chargedBytes },
      ])
      // Slices that can only hold records before `since` are left out.
      assert.deepEqual(await store.usage('caller', at('02')), [
        { start: '2026-01-01T03:00:00.000000', bytes: c.chargedBytes },
      ])
      assert.equal(await store.purge(at('02')), 2)
      assert.deepEqual(await store.usage('caller', at('00')), [
        { start: '2026-01-01T03:00:00.000000', bytes: c.chargedBytes },
      ])
      assert.equal((await store.usage('other', at('00'))).length, 1)
    })

    test('answers live beside the audit trail on one database, and close with it', async (t) => {
      const [stores] = await openFreshStores(t, name)
      assert.ok(stores)
      const actions = new TestStore(stores.actions)
      await actions.putInstance({
        uuid: '11111111-2222-4333-8444-555555555555',
        name: 'vm',
        projectId: 'p',
        userId: 'u',
        now: ts('00.000000'),
      })
      await put(stores.idempotency, rec('k', 'r', 201, '{"x":1}', '01.000000'))
      assert.equal((await stores.idempotency.get('k'))?.body, '{"x":1}')
      await stores.close()
      await stores.close()
      await assert.rejects(stores.idempotency.get('k'))
    })
  })
}
