/**
 * Test harness: the real app over a real, temporary store, with fixed tokens and a log capture,
 * closed after the test. The store is in-memory SQLite unless ACTIONTRAIL_TEST_BACKEND names a
 * server backend (`postgres`, `mysql`): then every harness gets a fresh database on that server,
 * dropped after the test (scripts/run-tests.sh runs the API suites that way too).
 */
import type { OverloadLimits } from '../../src/api/plugins/overload.js'
import type { RateLimitSettings } from '../../src/api/plugins/rate-limit.js'
import type { CheckpointLog } from '../../src/store/chain/checkpoint-log.js'
import type { StuckPolicy } from '../../src/domain/stuck-work.js'
import { Writable } from 'node:stream'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.js'
import type { AccessPolicy } from '../../src/auth/access-policy.js'
import { StaticTokenAuthenticator, type TokenEntry } from '../../src/auth/token-file.js'
import type { IdempotencyLimits } from '../../src/api/v1/idempotency-limits.js'
import type { StreamSettings } from '../../src/api/v1/stream/stream-hub.js'
import type { ActionService } from '../../src/domain/action-service.js'
import type { Clock } from '../../src/domain/timestamp.js'
import { createActionService } from '../../src/local-service.js'
import { createLogger } from '../../src/security/redacting-logger.js'
import type { IdempotencyStore } from '../../src/store/idempotency-store.js'
import { openStores, type Stores } from '../../src/store/open-store.js'
import type { RetentionStore } from '../../src/store/retention-store.js'
import { createTestDatabase, type ServerKind, type TestDatabase } from './backends.js'
import { findLeaks, TEST_PASSWORDS } from './leak-scan.js'
import { checkResponses } from './response-check.js'
import { TestStore } from './store-ops.js'

/** The backend the API suites run on (ACTIONTRAIL_TEST_BACKEND; SQLite when unset). */
export const TEST_BACKEND: 'sqlite' | ServerKind = testBackend(process.env.ACTIONTRAIL_TEST_BACKEND)

function testBackend(value: string | undefined): 'sqlite' | ServerKind {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite'
  if (value === 'postgres' || value === 'mysql') return value
  throw new Error(
    `ACTIONTRAIL_TEST_BACKEND must be sqlite, postgres or mysql, not ${JSON.stringify(value)}`,
  )
}

/** Projects used by the fixtures (Keystone-style ids). */
export const PROJECT_A = 'aaaaaaaaaaaa4aaa8aaaaaaaaaaaaaaa'
export const PROJECT_B = 'bbbbbbbbbbbb4bbb8bbbbbbbbbbbbbbb'
export const USER_A = 'a0000000000040008000000000000001'
export const USER_B = 'b0000000000040008000000000000002'
export const ADMIN_USER = 'ad000000000040008000000000000003'
/** The admin of project A (ADMIN_USER is project B's). */
export const ADMIN_USER_A = 'ad000000000040008000000000000004'

/** Fixed test tokens by role. */
export const TOKENS = {
  admin: 'tok-admin-5f1c9a',
  memberA: 'tok-member-a-8d2e',
  readerA: 'tok-reader-a-3b7f',
  memberB: 'tok-member-b-9c4a',
  serviceA: 'tok-service-a-1e6d',
  // The rest of the tenancy matrix's principals (test/api/tenancy-matrix.test.ts): every role of
  // both projects. `admin` above is project B's admin.
  adminA: 'tok-admin-a-7c3d',
  readerB: 'tok-reader-b-4e8a',
  serviceB: 'tok-service-b-2f9b',
} as const

/** Token file entries for TOKENS. */
export const TOKEN_ENTRIES: TokenEntry[] = [
  { token: TOKENS.admin, user_id: ADMIN_USER, project_id: PROJECT_B, roles: ['admin'] },
  { token: TOKENS.memberA, user_id: USER_A, project_id: PROJECT_A, roles: ['member'] },
  { token: TOKENS.readerA, user_id: USER_A, project_id: PROJECT_A, roles: ['reader'] },
  { token: TOKENS.memberB, user_id: USER_B, project_id: PROJECT_B, roles: ['member'] },
  { token: TOKENS.serviceA, user_id: USER_A, project_id: PROJECT_A, roles: ['service'] },
  { token: TOKENS.adminA, user_id: ADMIN_USER_A, project_id: PROJECT_A, roles: ['admin'] },
  { token: TOKENS.readerB, user_id: USER_B, project_id: PROJECT_B, roles: ['reader'] },
  { token: TOKENS.serviceB, user_id: USER_B, project_id: PROJECT_B, roles: ['service'] },
]

/**
 * What no log line of a harness may contain (besides the patterns of test/helpers/leak-scan.ts):
 * the fixtures' user and project ids, every token and the passwords the suites write.
 */
export const LEAK_LITERALS: readonly string[] = [
  PROJECT_A,
  PROJECT_B,
  USER_A,
  USER_B,
  ADMIN_USER,
  ADMIN_USER_A,
  ...TOKEN_ENTRIES.map((e) => e.token),
  ...TEST_PASSWORDS,
]

/** A built app with its stores, service and captured log lines. */
export interface Harness {
  app: FastifyInstance
  /** The audit-trail store behind the service (with write helpers for seeding). */
  store: TestStore
  /** The store of remembered Idempotency-Key answers, on the same database. */
  idempotency: IdempotencyStore
  /** Archive and purge on the same database (issue 13). */
  retention: RetentionStore
  /** The hash chain's checkpoints, on the same database. */
  checkpoints: CheckpointLog
  service: ActionService
  /** Every log line written since the harness was built (raw JSON text). */
  logs: () => string
}

/** Options of buildHarness. */
export interface HarnessOptions {
  /** Clock of the service and the app (idempotency expiry); the system clock when absent. */
  clock?: Clock
  /** Caps on remembered Idempotency-Key answers; the defaults when absent. */
  idempotencyLimits?: Partial<IdempotencyLimits>
  /** Key of the query API's cursors; random per app when absent. */
  cursorKey?: Buffer
  /** The access policy (e.g. built from a policy file); the defaults when absent. */
  policy?: AccessPolicy
  /** Stuck deadlines of the query API (`state=stuck`); the default policy when absent. */
  stuck?: StuckPolicy
  /** Settings of `GET /v1/stream`; the defaults when absent. */
  stream?: Partial<StreamSettings>
  /** Token file entries besides TOKEN_ENTRIES (e.g. scoped service writers). */
  extraTokens?: readonly TokenEntry[]
  /** ACTIONTRAIL_PUBLIC_URL and ACTIONTRAIL_TRUST_PROXY of the app; unset when absent. */
  publicUrl?: string
  trustProxy?: boolean | string
  /** Overload bounds; the defaults when absent. */
  overload?: OverloadLimits
  /** The Action Log page's built files; `web/dist` when absent. */
  webAssetsDir?: string
  /** The per-principal rate limit; none when absent. */
  rateLimit?: RateLimitSettings
}

/**
 * Builds the app on a fresh store; closed in `t.after`. `:memory:` (the default) means a fresh
 * database of the test backend; any other value is opened as given.
 */
export async function buildHarness(
  t: TestContext,
  database = ':memory:',
  options: HarnessOptions = {},
): Promise<Harness> {
  const chunks: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  })
  // Trace level: the leak scan must see every line the server can write. Measured on four API
  // files (125 tests), two runs each: 38.4 s CPU at debug, 38.2 s at trace — no cost within noise.
  const { logger } = createLogger({ level: 'trace', key: 'test-log-key', destination })
  const fresh: TestDatabase | undefined =
    database === ':memory:' && TEST_BACKEND !== 'sqlite'
      ? await createTestDatabase(TEST_BACKEND)
      : undefined
  let stores: Stores
  try {
    stores = await openStores(fresh ? fresh.url : database)
  } catch (err) {
    await fresh?.drop()
    throw err
  }
  const service = createActionService(stores.actions, options.clock)
  const app = await buildApp({
    service,
    authenticator: new StaticTokenAuthenticator([...TOKEN_ENTRIES, ...(options.extraTokens ?? [])]),
    logger,
    idempotency: stores.idempotency,
    readinessProbe: () => stores.ready(),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.idempotencyLimits ? { idempotencyLimits: options.idempotencyLimits } : {}),
    ...(options.cursorKey ? { cursorKey: options.cursorKey } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.stuck ? { stuck: options.stuck } : {}),
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    ...(options.overload ? { overload: options.overload } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    stream: { feed: stores.changes, ...(options.stream ? { settings: options.stream } : {}) },
    checkpoints: stores.checkpoints,
    ...(options.webAssetsDir ? { webAssetsDir: options.webAssetsDir } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
  })
  const responses = await checkResponses(app)
  // The lines of the checker's own document requests are not the test's.
  const firstLine = chunks.length
  t.after(async () => {
    await app.close()
    await stores.close()
    await fresh?.drop()
    const violations = responses.violations()
    if (violations.length > 0) {
      throw new Error(
        `answers that do not match the OpenAPI documents or carry a stack trace:\n${violations.join('\n')}`,
      )
    }
    const leaks = findLeaks(chunks.join(''), LEAK_LITERALS)
    if (leaks.length > 0) throw new Error(`the log leaks:\n${leaks.join('\n')}`)
  })
  return {
    app,
    store: new TestStore(stores.actions),
    idempotency: stores.idempotency,
    retention: stores.retention,
    checkpoints: stores.checkpoints,
    service,
    logs: () => chunks.slice(firstLine).join(''),
  }
}

/** Headers for a request as `role` at microversion `version` (none → 2.1). */
export function headers(token: string, version?: string): Record<string, string> {
  const h: Record<string, string> = { 'x-auth-token': token }
  if (version) h['openstack-api-version'] = `compute ${version}`
  return h
}
