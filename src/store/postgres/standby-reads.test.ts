import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveReadReplica } from '../../config.js'
import { AppError } from '../../domain/errors.js'
import { openStores } from '../open-store.js'
import { parseLsn } from './standby-lag.js'

test('WAL positions compare as numbers across the high and low halves', () => {
  assert.equal(parseLsn('0/16B3748'), 0x16b3748n)
  assert.ok(parseLsn('1/0') > parseLsn('0/FFFFFFFF'))
  assert.throws(() => parseLsn('nonsense'))
})

test('ACTIONTRAIL_DB_READ and its lag bound are read from the environment', () => {
  assert.equal(resolveReadReplica({}), undefined)
  assert.deepEqual(resolveReadReplica({ ACTIONTRAIL_DB_READ: 'postgres://h/db' }), {
    database: 'postgres://h/db',
    maxLagMs: 5000,
  })
  assert.deepEqual(
    resolveReadReplica({
      ACTIONTRAIL_DB_READ: 'postgres://h/db',
      ACTIONTRAIL_DB_READ_MAX_LAG_MS: '100',
    }),
    { database: 'postgres://h/db', maxLagMs: 100 },
  )
  assert.throws(
    () =>
      resolveReadReplica({
        ACTIONTRAIL_DB_READ: 'postgres://h/db',
        ACTIONTRAIL_DB_READ_MAX_LAG_MS: '5s',
      }),
    (err: unknown) =>
      err instanceof AppError &&
      err.code === 'invalid_input' &&
      err.message.includes('ACTIONTRAIL_DB_READ_MAX_LAG_MS'),
  )
})

test('a read replica beside a database that is not PostgreSQL is refused, its URL not echoed', async () => {
  await assert.rejects(
    openStores(':memory:', {
      read: { database: 'postgres://u:secret-pw@127.0.0.1:1/db', maxLagMs: 5000 },
    }),
    (err: unknown) =>
      err instanceof AppError &&
      err.code === 'invalid_input' &&
      err.message.includes('ACTIONTRAIL_DB_READ') &&
      !err.message.includes('secret-pw'),
  )
})
