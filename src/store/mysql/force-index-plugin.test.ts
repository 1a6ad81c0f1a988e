import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DummyDriver, Kysely, MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler } from 'kysely'
import type { Database } from '../schema.js'
import { ForceIndexPlugin } from './force-index-plugin.js'

// Compiles MySQL without a server: the plugin's effect is the SQL text it produces.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new MysqlAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new MysqlIntrospector(k),
    createQueryCompiler: () => new MysqlQueryCompiler(),
  },
})
const hint = new ForceIndexPlugin('instance_actions', 'instance_actions_instance_created_idx')

test('the hinted table is read through the named index; the rest of the query is unchanged', () => {
  const q = db
    .selectFrom('instance_actions')
    .selectAll()
    .where('instance_uuid', '=', 'u')
    .where('created_at', '<=', '2026-01-01 00:00:00.000000')
    .orderBy('created_at', 'desc')
    .limit(50)
  const plain = q.compile()
  const hinted = q.withPlugin(hint).compile()
  assert.equal(
    hinted.sql,
    plain.sql.replace(
      'from `instance_actions`',
      'from `instance_actions` FORCE INDEX (`instance_actions_instance_created_idx`)',
    ),
  )
  assert.match(hinted.sql, /FORCE INDEX/)
  assert.deepEqual(hinted.parameters, plain.parameters)
})

test('other tables and subqueries keep their plain references', () => {
  const q = db
    .selectFrom('instance_actions_events')
    .selectAll()
    .where(
      'action_id',
      'in',
      db.selectFrom('instances').select((eb) => eb.val(1).as('id')),
    )
    .withPlugin(hint)
  assert.doesNotMatch(q.compile().sql, /FORCE INDEX/)
})

test('only plain identifiers are accepted', () => {
  assert.throws(
    () => new ForceIndexPlugin('instance_actions`; DROP TABLE x; --', 'i'),
    /plain identifier/,
  )
  assert.throws(
    () => new ForceIndexPlugin('instance_actions', 'idx) UNION SELECT'),
    /plain identifier/,
  )
})
