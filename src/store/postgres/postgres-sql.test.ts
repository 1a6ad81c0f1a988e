import assert from 'node:assert/strict'
import { test } from 'node:test'
import { POSTGRES_SQL } from './postgres-sql.js'

test('PostgreSQL numbers placeholders and adds RETURNING id only where the step asks for the key', () => {
  const insert = 'INSERT INTO instance_actions (instance_uuid, action) VALUES (?, ?)'
  assert.equal(
    POSTGRES_SQL.translate(insert, { returnsId: true }),
    'INSERT INTO instance_actions (instance_uuid, action) VALUES ($1, $2) RETURNING id',
  )
  assert.equal(
    POSTGRES_SQL.translate(insert, { returnsId: false }),
    'INSERT INTO instance_actions (instance_uuid, action) VALUES ($1, $2)',
  )
  assert.equal(
    POSTGRES_SQL.translate('SELECT id FROM instance_actions WHERE id = ?', { returnsId: false }),
    'SELECT id FROM instance_actions WHERE id = $1',
  )
})
