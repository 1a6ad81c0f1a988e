/**
 * The schema's ranges and choices are the ones the readers of the settings enforce: for each
 * integer setting, its minimum and maximum are accepted and one past either refused by the same
 * checks `serve` makes; each enum value is accepted. A range changed on one side only fails here.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveFollowMetricsAddress, resolveReadReplica, resolveServeConfig } from '../config.js'
import { parseDatabaseTarget } from '../store/open-store.js'
import { SETTINGS } from './setting-definitions.js'

// Every optional reader switched on (Keystone mode, retention, checkpoints, Nova following), the
// two timeouts that bound each other at their extremes so that either may take its whole range.
const BASE: NodeJS.ProcessEnv = {
  ACTIONTRAIL_AUTH: 'keystone',
  ACTIONTRAIL_KEYSTONE_URL: 'http://keystone:5000/v3',
  ACTIONTRAIL_KEYSTONE_USERNAME: 'actiontrail',
  ACTIONTRAIL_KEYSTONE_PASSWORD: 'pw',
  ACTIONTRAIL_KEYSTONE_PROJECT: 'service',
  ACTIONTRAIL_KEEP_DAYS: '1',
  ACTIONTRAIL_SIGNING_KEY: '/etc/actiontrail/signing.pem',
  ACTIONTRAIL_NOVA_AMQP_URL: 'amqp://rabbit:5672/',
  ACTIONTRAIL_HEADERS_TIMEOUT_MS: '1',
  ACTIONTRAIL_REQUEST_TIMEOUT_MS: '3600000',
}

function accepted(variable: string, value: string): boolean {
  const env = { ...BASE, [variable]: value }
  try {
    resolveServeConfig({}, env)
    // The lag bound is read only beside a standby.
    resolveReadReplica({ ACTIONTRAIL_DB_READ: 'postgres://standby.example/actiontrail', ...env })
    resolveFollowMetricsAddress({}, env)
    parseDatabaseTarget('postgres://db.example/actiontrail', env)
    parseDatabaseTarget('/var/lib/actiontrail/actiontrail.db', env)
    return true
  } catch {
    return false
  }
}

test('the base settings are accepted', () => {
  assert.ok(accepted('ACTIONTRAIL_LOG_LEVEL', 'info'))
})

test("each integer setting's range is the one its reader enforces", () => {
  for (const s of SETTINGS) {
    if (s.type.kind !== 'integer') continue
    const { min, max } = s.type
    assert.ok(accepted(s.env, String(min)), `${s.env} accepts its minimum ${min}`)
    assert.ok(accepted(s.env, String(max)), `${s.env} accepts its maximum ${max}`)
    assert.ok(!accepted(s.env, String(max + 1)), `${s.env} refuses ${max + 1}`)
    if (min > 0) assert.ok(!accepted(s.env, String(min - 1)), `${s.env} refuses ${min - 1}`)
  }
})

test('each choice of an enum setting is accepted, and nothing else', () => {
  for (const s of SETTINGS) {
    if (s.type.kind !== 'enum') continue
    for (const value of s.type.values) assert.ok(accepted(s.env, value), `${s.env}=${value}`)
    assert.ok(!accepted(s.env, 'no-such-choice'), s.env)
  }
})
