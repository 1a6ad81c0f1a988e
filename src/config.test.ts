import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_HTTP_LIMITS } from './api/http-limits.js'
import { resolveFollowMetricsAddress, resolveServeConfig } from './config.js'

test('--tokens-strict or ACTIONTRAIL_TOKENS_STRICT=1 makes the token file check strict', () => {
  assert.equal(resolveServeConfig({}, {}).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '0' }).tokensStrict, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_TOKENS_STRICT: '1' }).tokensStrict, true)
  assert.equal(resolveServeConfig({ tokensStrict: true }, {}).tokensStrict, true)
})

test('connection limits: defaults, from the environment, flags win', () => {
  assert.deepEqual(resolveServeConfig({}, {}).httpLimits, DEFAULT_HTTP_LIMITS)
  const env = {
    ACTIONTRAIL_HEADERS_TIMEOUT_MS: '2000',
    ACTIONTRAIL_REQUEST_TIMEOUT_MS: '30000',
    ACTIONTRAIL_KEEP_ALIVE_TIMEOUT_MS: '1000',
    ACTIONTRAIL_IDLE_TIMEOUT_MS: '90000',
    ACTIONTRAIL_MAX_CONNECTIONS: '200',
    ACTIONTRAIL_DRAIN_TIMEOUT_MS: '2500',
  }
  assert.deepEqual(resolveServeConfig({}, env).httpLimits, {
    headersTimeoutMs: 2000,
    requestTimeoutMs: 30000,
    keepAliveTimeoutMs: 1000,
    idleTimeoutMs: 90000,
    maxConnections: 200,
    drainTimeoutMs: 2500,
  })
  const flags = { headersTimeoutMs: '500', maxConnections: '7' }
  const limits = resolveServeConfig(flags, env).httpLimits
  assert.equal(limits?.headersTimeoutMs, 500)
  assert.equal(limits?.maxConnections, 7)
  assert.equal(limits?.requestTimeoutMs, 30000)
})

test('connection limits: none can be switched off or be nonsense', () => {
  for (const bad of ['0', '-1', '1.5', 'abc', '', ' 10', '1e3', '99999999999']) {
    assert.throws(
      () => resolveServeConfig({}, { ACTIONTRAIL_MAX_CONNECTIONS: bad }),
      /--max-connections \(ACTIONTRAIL_MAX_CONNECTIONS\) must be an integer from 1 to 1000000/,
      bad,
    )
    assert.throws(() => resolveServeConfig({ idleTimeoutMs: bad }, {}), /--idle-timeout-ms/, bad)
  }
  assert.throws(
    () => resolveServeConfig({}, { ACTIONTRAIL_REQUEST_TIMEOUT_MS: '3600001' }),
    /from 1 to 3600000/,
  )
  // Node refuses a headers timeout longer than the request timeout; so does the configuration.
  assert.throws(
    () => resolveServeConfig({ headersTimeoutMs: '20000', requestTimeoutMs: '10000' }, {}),
    /headers timeout \(20000 ms\) must not exceed the request timeout \(10000 ms\)/,
  )
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

test('ACTIONTRAIL_CURSOR_SECRET sets the query cursors key; absent, none is configured', () => {
  assert.equal(resolveServeConfig({}, {}).cursorSecret, undefined)
  assert.equal(resolveServeConfig({}, { ACTIONTRAIL_CURSOR_SECRET: 's3' }).cursorSecret, 's3')
})

test('ACTIONTRAIL_AUTH picks the mode; Keystone mode needs a URL and service credentials', () => {
  assert.equal(resolveServeConfig({}, {}).authMode, 'static')
  assert.equal(
    resolveServeConfig({ auth: 'noauth' }, { ACTIONTRAIL_AUTH: 'keystone' }).authMode,
    'noauth',
  )
  assert.throws(() => resolveServeConfig({}, { ACTIONTRAIL_AUTH: 'none' }), /must be one of/)
  const base = { ACTIONTRAIL_AUTH: 'keystone', ACTIONTRAIL_KEYSTONE_URL: 'http://ks:5000/v3' }
  assert.throws(
    () => resolveServeConfig({}, { ...base, ACTIONTRAIL_KEYSTONE_PASSWORD: 'pw-1' }),
    (e: Error) =>
      /ACTIONTRAIL_KEYSTONE_USERNAME, ACTIONTRAIL_KEYSTONE_PROJECT/.test(e.message) &&
      !e.message.includes('pw-1'),
  )
  assert.throws(
    () => resolveServeConfig({}, { ...base, ACTIONTRAIL_KEYSTONE_URL: 'ks:5000' }),
    /URL/,
  )
  const password = resolveServeConfig(
    {},
    {
      ...base,
      ACTIONTRAIL_KEYSTONE_USERNAME: 'actiontrail',
      ACTIONTRAIL_KEYSTONE_PASSWORD: 'pw-1',
      ACTIONTRAIL_KEYSTONE_PROJECT: 'service',
    },
  ).keystone
  assert.deepEqual(password, {
    url: 'http://ks:5000/v3',
    credentials: {
      kind: 'password',
      username: 'actiontrail',
      password: 'pw-1',
      project: 'service',
      userDomain: 'Default',
      projectDomain: 'Default',
    },
    cacheSeconds: 300,
    timeoutMs: 3000,
  })
  const appCred = resolveServeConfig(
    {},
    {
      ...base,
      ACTIONTRAIL_KEYSTONE_APP_CRED_ID: 'id-1',
      ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET: 's-1',
      ACTIONTRAIL_KEYSTONE_CACHE_SECONDS: '0',
      ACTIONTRAIL_KEYSTONE_TIMEOUT_MS: '500',
    },
  ).keystone
  assert.deepEqual(appCred?.credentials, {
    kind: 'application_credential',
    id: 'id-1',
    secret: 's-1',
  })
  assert.equal(appCred?.cacheSeconds, 0)
  assert.equal(appCred?.timeoutMs, 500)
  assert.throws(
    () => resolveServeConfig({}, { ...base, ACTIONTRAIL_KEYSTONE_APP_CRED_ID: 'id-1' }),
    /both/,
  )
  assert.throws(
    () =>
      resolveServeConfig(
        {},
        {
          ...base,
          ACTIONTRAIL_KEYSTONE_APP_CRED_ID: 'i',
          ACTIONTRAIL_KEYSTONE_APP_CRED_SECRET: 's',
          ACTIONTRAIL_KEYSTONE_TIMEOUT_MS: '0',
        },
      ),
    /ACTIONTRAIL_KEYSTONE_TIMEOUT_MS/,
  )
})

test('stuck deadlines: ACTIONTRAIL_STUCK_AFTER(_ACTIONS) or the flags, 1h by default; bad ones refused', () => {
  assert.equal(resolveServeConfig({}, {}).stuck.defaultMicros, 3_600_000_000n)
  const env = { ACTIONTRAIL_STUCK_AFTER: '30m', ACTIONTRAIL_STUCK_AFTER_ACTIONS: 'resize=2h' }
  const fromEnv = resolveServeConfig({}, env).stuck
  assert.equal(fromEnv.defaultMicros, 1_800_000_000n)
  assert.deepEqual([...fromEnv.byAction], [['resize', 7_200_000_000n]])
  const fromFlags = resolveServeConfig(
    { stuckAfter: '2d', stuckAfterActions: 'live-migration=6h' },
    env,
  ).stuck
  assert.equal(fromFlags.defaultMicros, 172_800_000_000n)
  assert.deepEqual([...fromFlags.byAction], [['live-migration', 21_600_000_000n]])
  assert.throws(() => resolveServeConfig({}, { ACTIONTRAIL_STUCK_AFTER: 'soon' }), /stuck-after/)
  assert.throws(
    () => resolveServeConfig({ stuckAfterActions: 'resize' }, {}),
    /stuck-after-actions/,
  )
})

test('stream settings: from ACTIONTRAIL_STREAM_*, each a whole number in its range', () => {
  assert.equal(resolveServeConfig({}, {}).stream, undefined)
  assert.deepEqual(
    resolveServeConfig(
      {},
      {
        ACTIONTRAIL_STREAM_POLL_MS: '20',
        ACTIONTRAIL_STREAM_BUFFER_BYTES: '65536',
        ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS: '10',
        ACTIONTRAIL_STREAM_HEARTBEAT_MS: '5000',
      },
    ).stream,
    { pollMs: 20, bufferBytes: 65536, maxSubscribers: 10, heartbeatMs: 5000 },
  )
  for (const [variable, value] of [
    ['ACTIONTRAIL_STREAM_POLL_MS', '0'],
    ['ACTIONTRAIL_STREAM_BUFFER_BYTES', '100'],
    ['ACTIONTRAIL_STREAM_MAX_SUBSCRIBERS', '-1'],
    ['ACTIONTRAIL_STREAM_HEARTBEAT_MS', '1e3'],
  ] as const)
    assert.throws(
      () => resolveServeConfig({}, { [variable]: value }),
      (e: Error) => e.message.startsWith(variable),
    )
})

test('rate limit: off by default and at 0; ACTIONTRAIL_RATE_LIMIT(_BURST) set it; bad values refused', () => {
  const base = { ACTIONTRAIL_TOKENS: 't.json' }
  assert.equal(resolveServeConfig({}, base).rateLimit, undefined)
  assert.equal(
    resolveServeConfig({}, { ...base, ACTIONTRAIL_RATE_LIMIT: '0' }).rateLimit,
    undefined,
  )
  // The burst defaults to twice the rate, rounded up, at least 1.
  assert.deepEqual(resolveServeConfig({}, { ...base, ACTIONTRAIL_RATE_LIMIT: '10' }).rateLimit, {
    rate: 10,
    burst: 20,
  })
  assert.deepEqual(resolveServeConfig({}, { ...base, ACTIONTRAIL_RATE_LIMIT: '0.2' }).rateLimit, {
    rate: 0.2,
    burst: 1,
  })
  assert.deepEqual(
    resolveServeConfig(
      {},
      { ...base, ACTIONTRAIL_RATE_LIMIT: '2.5', ACTIONTRAIL_RATE_LIMIT_BURST: '7' },
    ).rateLimit,
    { rate: 2.5, burst: 7 },
  )
  for (const bad of ['-1', 'fast', '1e3', '5000000', ' .5', 'NaN', 'Infinity'])
    assert.throws(
      () => resolveServeConfig({}, { ...base, ACTIONTRAIL_RATE_LIMIT: bad }),
      /ACTIONTRAIL_RATE_LIMIT must be a number/,
      bad,
    )
  for (const bad of ['0', '1.5', '-2', 'lots'])
    assert.throws(
      () =>
        resolveServeConfig(
          {},
          { ...base, ACTIONTRAIL_RATE_LIMIT: '1', ACTIONTRAIL_RATE_LIMIT_BURST: bad },
        ),
      /ACTIONTRAIL_RATE_LIMIT_BURST must be a whole number/,
      bad,
    )
})

test('follow-nova metrics: --metrics-port or ACTIONTRAIL_FOLLOW_METRICS_PORT, on 127.0.0.1 unless told', () => {
  assert.equal(resolveFollowMetricsAddress({}, {}), undefined)
  assert.deepEqual(resolveFollowMetricsAddress({}, { ACTIONTRAIL_FOLLOW_METRICS_PORT: '9102' }), {
    host: '127.0.0.1',
    port: 9102,
  })
  assert.deepEqual(
    resolveFollowMetricsAddress(
      { metricsPort: '0', metricsHost: '0.0.0.0' },
      { ACTIONTRAIL_FOLLOW_METRICS_PORT: '9102', ACTIONTRAIL_FOLLOW_METRICS_HOST: '::1' },
    ),
    { host: '0.0.0.0', port: 0 },
  )
  for (const bad of ['70000', '-1', 'http'])
    assert.throws(
      () => resolveFollowMetricsAddress({ metricsPort: bad }, {}),
      /--metrics-port \(ACTIONTRAIL_FOLLOW_METRICS_PORT\) must be an integer/,
    )
})
