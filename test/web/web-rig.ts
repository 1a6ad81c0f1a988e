/**
 * What the Action Log page's browser tests share: Debian's Chromium driven by playwright-core (no
 * browser is ever downloaded; without /usr/bin/chromium the suites are skipped loudly, and with
 * ACTIONTRAIL_REQUIRE_BACKENDS=1, as in CI, they fail instead), the page built when missing or
 * stale (web/build.ts), and the real app listening on a loopback port over a fresh store.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { DEMO_PROJECTS, DEMO_USERS } from '../../src/cli/demo-data.js'
import type { TokenEntry } from '../../src/auth/token-file.js'
import { ensureWebBuilt } from '../../web/build.js'
import { REQUIRE_BACKENDS } from '../helpers/backends.js'
import { buildHarness, type Harness, type HarnessOptions } from '../helpers/build-app.js'

/** Debian's Chromium (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * The `skip` option of a browser suite: false when Chromium is there (or CI requires it), else
 * the reason, printed loudly.
 */
export function chromiumSkip(): string | false {
  if (existsSync(CHROMIUM) || REQUIRE_BACKENDS) return false
  const reason = `${CHROMIUM} is missing (apt-get install chromium)`
  console.error(`\n*** ${reason}: the Action Log browser tests are SKIPPED ***\n`)
  return reason
}

/** Starts headless Chromium; closed after the suite by the caller. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  })
}

/** Demo-project tokens for the page's tests (the harness's TOKENS cover the other projects). */
export const DEMO_TOKENS = {
  reader: 'tok-web-demo-reader-41c7',
  member: 'tok-web-demo-member-93af',
  admin: 'tok-web-ops-admin-77e2',
  service: 'tok-web-ops-service-5d08',
} as const

/** Token entries for DEMO_TOKENS. */
export const DEMO_TOKEN_ENTRIES: TokenEntry[] = [
  {
    token: DEMO_TOKENS.reader,
    user_id: DEMO_USERS.bob,
    project_id: DEMO_PROJECTS.demo,
    roles: ['reader'],
  },
  {
    token: DEMO_TOKENS.member,
    user_id: DEMO_USERS.alice,
    project_id: DEMO_PROJECTS.demo,
    roles: ['member'],
  },
  {
    token: DEMO_TOKENS.admin,
    user_id: DEMO_USERS.admin,
    project_id: DEMO_PROJECTS.ops,
    roles: ['admin'],
  },
  {
    token: DEMO_TOKENS.service,
    user_id: DEMO_USERS.nova,
    project_id: DEMO_PROJECTS.ops,
    roles: ['service'],
  },
]

/** The app listening on loopback, with its harness (store, service, log). */
export interface PageServer {
  url: string
  harness: Harness
}

/** Builds the page if needed and starts the app on a free loopback port (closed in `t.after`). */
export async function startPageServer(
  t: TestContext,
  options: HarnessOptions = {},
): Promise<PageServer> {
  await ensureWebBuilt()
  const harness = await buildHarness(t, ':memory:', {
    ...options,
    extraTokens: [...DEMO_TOKEN_ENTRIES, ...(options.extraTokens ?? [])],
  })
  // The harness scans its log for its own tokens; the page's tests sign in with these.
  t.after(() => {
    const logs = harness.logs()
    for (const entry of DEMO_TOKEN_ENTRIES)
      assert.ok(!logs.includes(entry.token), 'a token the page signed in with reached the log')
  })
  await harness.app.listen({ host: '127.0.0.1', port: 0 })
  const address = harness.app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, harness }
}

/**
 * What went wrong in the page: uncaught errors, console errors (Content-Security-Policy refusals
 * are reported there) other than the API's 4xx answers, and dialogs (an injected `alert` that
 * ran). Dialogs are dismissed.
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => {
    // The API's refusals (401, 403, 400) are answers the page shows; Chromium logs them too.
    if (msg.type() !== 'error' || /^Failed to load resource: .* status of 4\d\d/.test(msg.text()))
      return
    problems.push(`console: ${msg.text()}`)
  })
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`)
    void dialog.dismiss()
  })
  return problems
}

/** Opens the page and signs in with a token; resolves once the recent actions are shown. */
export async function signInWithToken(
  page: Page,
  url: string,
  token: string,
  hash = '',
): Promise<void> {
  await page.goto(`${url}/ui/${hash}`)
  await page.getByLabel('Token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('main h1').filter({ hasNotText: 'Sign in' }).waitFor()
}
