import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveServeConfig } from './config.js'

test('--tokens-strict or ACTIONTRAIL_TOKENS_STRICT=1 makes the token file check strict', () => {
  assert.equal(resolveServeConfig({}, {}).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '0' }).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '1' }).tokensStrict, true)
  assert.equal(resolveServeConfig({ tokensStrict: true }, {}).tokensStrict, true)
})

test('ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES / _MAX_CALLER_BYTES set the Idempotency-Key caps', () => {
  assert.equal(resolveServeConfig({}, {}).idempotencyLimits, undefined)
  assert.deepEqual(
    resolveServeConfig(
      {},
      {
        ACTIONTRAIL_IDEMPOTENCY_MAX_ANSWER_BYTES: '65536',
        ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES: '1073741824',
      },
    ).idempotencyLimits,
    { maxAnswerBytes: 65536, maxCallerBytes: 1073741824 },
  )
  for (const bad of ['-1', '1e6', '64k', ' 5'])
    assert.throws(
      () => resolveServeConfig({}, { ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES: bad }),
      /ACTIONTRAIL_IDEMPOTENCY_MAX_CALLER_BYTES must be a whole number of bytes/,
    )
})
