import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveServeConfig } from './config.js'

test('--tokens-strict or ACTIONTRAIL_TOKENS_STRICT=1 makes the token file check strict', () => {
  assert.equal(resolveServeConfig({}, {}).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '0' }).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '1' }).tokensStrict, true)
  assert.equal(resolveServeConfig({ tokensStrict: true }, {}).tokensStrict, true)
})
