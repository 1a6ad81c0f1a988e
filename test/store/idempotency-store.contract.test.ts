/**
 * The IdempotencyStore contract, on every backend (like the ActionStore contract suite: a server
 * that does not answer is skipped loudly, or fails the run under ACTIONTRAIL_REQUIRE_BACKENDS=1).
 * The store shares its database with the ActionStore opened beside it.
 */
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { IdempotencyStore } from '../../src/store/idempotency-store.js'
import {
  BACKEND_NAMES,
  backendProblem,
  openFreshStores,
  REQUIRE_BACKENDS,
} from '../helpers/backends.js'
import { TestStore } from '../helpers/store-ops.js'

const ts = (s: string) => `2026-01-01T00:00:${s}` as Timestamp

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
      await store.put({
        keyHash: 'k1',
        requestHash: 'r1',
        status: 201,
        body: '{"a":1}',
        createdAt: ts('01.000000'),
      })
      await store.put({
        keyHash: 'k1',
        requestHash: 'r2',
        status: 200,
        body: '{}',
        createdAt: ts('02.000000'),
      })
      await store.put({
        keyHash: 'k2',
        requestHash: 'r3',
        status: 404,
        body: '{}',
        createdAt: ts('09.000000'),
      })
      assert.deepEqual(await store.get('k1'), {
        keyHash: 'k1',
        requestHash: 'r1',
        status: 201,
        body: '{"a":1}',
        createdAt: ts('01.000000'),
      })
      assert.equal(await store.purge(ts('05.000000')), 1)
      assert.equal(await store.get('k1'), undefined)
      assert.equal((await store.get('k2'))?.status, 404)
    })

    test('keys compare exactly; a key no backend can hold is simply not found', async (t) => {
      const store = await open(t)
      await store.put({
        keyHash: 'K',
        requestHash: 'r1',
        status: 200,
        body: '{}',
        createdAt: ts('01.000000'),
      })
      await store.put({
        keyHash: 'k',
        requestHash: 'r2',
        status: 201,
        body: '{}',
        createdAt: ts('01.000000'),
      })
      await store.put({
        keyHash: 'k ',
        requestHash: 'r3',
        status: 202,
        body: '{}',
        createdAt: ts('01.000000'),
      })
      assert.deepEqual(
        await Promise.all(
          ['k', 'K', 'k ', 'k\u0000'].map(async (k) => (await store.get(k))?.status),
        ),
        [201, 200, 202, undefined],
      )
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
      await stores.idempotency.put({
        keyHash: 'k',
        requestHash: 'r',
        status: 201,
        body: '{"x":1}',
        createdAt: ts('01.000000'),
      })
      assert.equal((await stores.idempotency.get('k'))?.body, '{"x":1}')
      await stores.close()
      await stores.close()
      await assert.rejects(stores.idempotency.get('k'))
    })
  })
}
