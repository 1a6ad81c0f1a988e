/** Database settings: which backend, which connection target, how many connections. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isAppError } from '../../src/domain/errors.js'
import {
  DEFAULT_POOL_MAX,
  describeDatabase,
  parseDatabaseTarget,
} from '../../src/store/open-store.js'

test('paths and sqlite:/file: URLs select SQLite', () => {
  assert.deepEqual(parseDatabaseTarget('./data/x.db', {}), {
    kind: 'sqlite',
    filename: './data/x.db',
  })
  assert.deepEqual(parseDatabaseTarget(':memory:', {}), { kind: 'sqlite', filename: ':memory:' })
  assert.deepEqual(parseDatabaseTarget('sqlite:///tmp/a.db', {}), {
    kind: 'sqlite',
    filename: '/tmp/a.db',
  })
  assert.deepEqual(parseDatabaseTarget('file:/tmp/a%20b.db', {}), {
    kind: 'sqlite',
    filename: '/tmp/a b.db',
  })
})

test('ACTIONTRAIL_SQLITE_LOCK_WAIT_MS sets how long SQLite writes wait for a lock', () => {
  assert.deepEqual(parseDatabaseTarget('./x.db', { ACTIONTRAIL_SQLITE_LOCK_WAIT_MS: '250' }), {
    kind: 'sqlite',
    filename: './x.db',
    lockWaitMs: 250,
  })
  assert.equal(
    parseDatabaseTarget('sqlite:x.db', { ACTIONTRAIL_SQLITE_LOCK_WAIT_MS: '0' }).kind,
    'sqlite',
  )
  for (const bad of ['-1', '1.5', 'soon', '600001', '1e3']) {
    assert.throws(
      () => parseDatabaseTarget('./x.db', { ACTIONTRAIL_SQLITE_LOCK_WAIT_MS: bad }),
      (e) => isAppError(e, 'invalid_input') && /ACTIONTRAIL_SQLITE_LOCK_WAIT_MS/.test(e.message),
    )
  }
})

test('postgres:// and postgresql:// select PostgreSQL; mysql:// and mariadb:// MariaDB/MySQL', () => {
  assert.deepEqual(parseDatabaseTarget('postgres://u:pw@db:5432/at', {}), {
    kind: 'postgres',
    url: 'postgres://u:pw@db:5432/at',
    poolMax: DEFAULT_POOL_MAX,
  })
  assert.equal(parseDatabaseTarget('postgresql://db/at', {}).kind, 'postgres')
  assert.deepEqual(parseDatabaseTarget('mysql://root@db:3306/at', {}), {
    kind: 'mysql',
    url: 'mysql://root@db:3306/at',
    poolMax: DEFAULT_POOL_MAX,
  })
  assert.equal(parseDatabaseTarget('MariaDB://root@db/at', {}).kind, 'mysql')
})

test('the pool size comes from pool_max in the URL, then ACTIONTRAIL_DB_POOL_MAX', () => {
  const env = { ACTIONTRAIL_DB_POOL_MAX: '25' }
  assert.deepEqual(parseDatabaseTarget('postgres://db/at?sslmode=disable&pool_max=3', env), {
    kind: 'postgres',
    url: 'postgres://db/at?sslmode=disable',
    poolMax: 3,
  })
  assert.deepEqual(parseDatabaseTarget('mysql://db/at', env), {
    kind: 'mysql',
    url: 'mysql://db/at',
    poolMax: 25,
  })
  for (const bad of ['0', '-1', 'ten', '1001']) {
    assert.throws(
      () => parseDatabaseTarget(`postgres://db/at?pool_max=${bad}`, {}),
      (e) => isAppError(e, 'invalid_input'),
    )
    assert.throws(
      () => parseDatabaseTarget('mysql://db/at', { ACTIONTRAIL_DB_POOL_MAX: bad }),
      (e) => isAppError(e, 'invalid_input') && /ACTIONTRAIL_DB_POOL_MAX/.test(e.message),
    )
  }
})

test('a bad URL is refused without echoing it; descriptions mask passwords', () => {
  assert.throws(
    () => parseDatabaseTarget('postgres://u:s3cret@[bad/at', {}),
    (e) => isAppError(e, 'invalid_input') && !e.message.includes('s3cret'),
  )
  assert.equal(describeDatabase('postgres://u:s3cret@db/at'), 'postgres://u:***@db/at')
  assert.equal(describeDatabase('mysql://root@db/at'), 'mysql://root@db/at')
  assert.equal(describeDatabase('./data/actiontrail.db'), './data/actiontrail.db')
})

test('a MariaDB URL may list the nodes of a Galera cluster, each kept with the options', () => {
  assert.deepEqual(
    parseDatabaseTarget('mysql://at:pw@g1:3306, g2:3307,g3/at?connectTimeout=500&pool_max=4', {}),
    {
      kind: 'mysql',
      url: 'mysql://at:pw@g1:3306/at?connectTimeout=500',
      poolMax: 4,
      nodes: [
        'mysql://at:pw@g1:3306/at?connectTimeout=500',
        'mysql://at:pw@g2:3307/at?connectTimeout=500',
        'mysql://at:pw@g3/at?connectTimeout=500',
      ],
    },
  )
  for (const bad of [
    'mysql://at:s3cret@g1,,g2/at',
    'mysql://at:s3cret@g1,/at',
    'mysql://at:s3cret@g1,[x/at',
  ]) {
    assert.throws(
      () => parseDatabaseTarget(bad, {}),
      (e) => isAppError(e, 'invalid_input') && !e.message.includes('s3cret'),
    )
  }
  assert.equal(
    describeDatabase('mysql://at:s3cret@g1:3306,g2:3306/at'),
    'mysql://at:***@g1:3306,g2:3306/at',
  )
})

test('ACTIONTRAIL_DB_CONFLICT_RETRIES bounds the attempts of a write transaction (1 to 100)', () => {
  const env = { ACTIONTRAIL_DB_CONFLICT_RETRIES: '12' }
  assert.deepEqual(parseDatabaseTarget('mysql://db/at', env), {
    kind: 'mysql',
    url: 'mysql://db/at',
    poolMax: DEFAULT_POOL_MAX,
    maxAttempts: 12,
  })
  assert.deepEqual(parseDatabaseTarget('postgres://db/at', env), {
    kind: 'postgres',
    url: 'postgres://db/at',
    poolMax: DEFAULT_POOL_MAX,
    maxAttempts: 12,
  })
  for (const bad of ['0', '-1', 'five', '101', '1.5']) {
    assert.throws(
      () => parseDatabaseTarget('mysql://db/at', { ACTIONTRAIL_DB_CONFLICT_RETRIES: bad }),
      (e) => isAppError(e, 'invalid_input') && /ACTIONTRAIL_DB_CONFLICT_RETRIES/.test(e.message),
    )
  }
})
