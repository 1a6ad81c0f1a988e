/**
 * `npm run screenshots`: pictures of the Action Log's main views for the README, taken in Chromium
 * from the demo history (plus one live migration left running for hours, so that the "running too
 * long" highlight shows), into docs/screenshots/. Not a test: run it after changing the page.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildApp } from '../../src/api/app.js'
import { StaticTokenAuthenticator } from '../../src/auth/token-file.js'
import {
  DEMO_INSTANCES,
  DEMO_PROJECTS,
  DEMO_USERS,
  demoRequestId,
  loadDemo,
} from '../../src/cli/demo-data.js'
import { createActionService } from '../../src/local-service.js'
import { createLogger } from '../../src/security/redacting-logger.js'
import { openStores } from '../../src/store/open-store.js'
import { ensureWebBuilt } from '../../web/build.js'
import { ROOT } from '../helpers/spawn-server.js'
import { DEMO_TOKEN_ENTRIES, DEMO_TOKENS, launchChromium } from './web-rig.js'

const OUT = join(ROOT, 'docs', 'screenshots')
const WEB_1 = DEMO_INSTANCES[0]?.uuid ?? ''
const DB_PRIMARY = DEMO_INSTANCES[2]?.uuid ?? ''

/** An ISO time `hours` before now, in the API's form. */
function hoursAgo(hours: number): string {
  return new Date(Date.now() - hours * 3_600_000).toISOString().replace('Z', '000').slice(0, 26)
}

await ensureWebBuilt()
mkdirSync(OUT, { recursive: true })
const stores = await openStores(':memory:')
const service = createActionService(stores.actions)
await loadDemo(service)
// A live migration of db-primary that started three hours ago and never finished its transfer.
const requestId = 'req-5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'
await service.actionStart({
  instanceUuid: DB_PRIMARY,
  action: 'live-migration',
  requestId,
  userId: DEMO_USERS.bob,
  projectId: DEMO_PROJECTS.demo,
  startTime: hoursAgo(3),
})
for (const [event, start, end] of [
  ['conductor_live_migrate_instance', 3, 2.99],
  ['compute_check_can_live_migrate_destination', 2.99, 2.98],
  ['compute_pre_live_migration', 2.98, 2.9],
] as const) {
  await service.eventStart({
    instanceUuid: DB_PRIMARY,
    requestId,
    event,
    host: 'compute-3',
    startTime: hoursAgo(start),
  })
  await service.eventFinish({
    instanceUuid: DB_PRIMARY,
    requestId,
    event,
    result: 'Success',
    finishTime: hoursAgo(end),
  })
}
await service.eventStart({
  instanceUuid: DB_PRIMARY,
  requestId,
  event: 'compute_live_migration',
  host: 'compute-3',
  startTime: hoursAgo(2.9),
})

const { logger } = createLogger({ level: 'silent' })
const app = await buildApp({
  service,
  authenticator: new StaticTokenAuthenticator(DEMO_TOKEN_ENTRIES),
  logger,
  idempotency: stores.idempotency,
  stream: { feed: stores.changes },
})
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
const browser = await launchChromium()
try {
  const shoot = async (
    name: string,
    hash: string,
    options: {
      width?: number
      dark?: boolean
      token?: string
      prepare?: (page: import('playwright-core').Page) => Promise<void>
    } = {},
  ) => {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: 900 },
      colorScheme: options.dark ? 'dark' : 'light',
      deviceScaleFactor: 1,
    })
    const page = await context.newPage()
    await page.goto(`${url}/ui/`)
    if (options.token !== '') {
      await page.getByLabel('Token').fill(options.token ?? DEMO_TOKENS.admin)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.locator('#live[data-state="live"]').waitFor()
      if (hash) {
        await page.evaluate((h) => (location.hash = h), hash)
        await page.locator('#live[data-state="live"]').waitFor()
      }
      await page.locator('main .notice', { hasText: 'Loading' }).waitFor({ state: 'detached' })
    } else {
      await page.getByLabel('Token').waitFor()
    }
    await options.prepare?.(page)
    await page.screenshot({
      path: join(OUT, `${name}.png`),
      // The first screen only: what a person sees on opening, and small files in the package.
      fullPage: false,
    })
    await context.close()
    console.log(`docs/screenshots/${name}.png`)
  }
  await shoot('sign-in', '', { token: '' })
  await shoot('recent-actions', '#/actions')
  await shoot('instance-timeline', `#/instances/${DB_PRIMARY}`)
  await shoot('action-detail-admin', `#/instances/${WEB_1}/actions/${demoRequestId(4)}`, {
    prepare: async (page) => {
      await page.locator('details.event.error summary').first().click()
      await page.getByText('Show the traceback (sanitized)').click()
    },
  })
  await shoot('instance-timeline-dark', `#/instances/${WEB_1}`, { dark: true })
  await shoot('recent-actions-phone', '#/actions', { width: 390, token: DEMO_TOKENS.reader })
} finally {
  await browser.close()
  await app.close()
  await stores.close()
}
