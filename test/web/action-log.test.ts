/**
 * The Action Log page in Debian's Chromium (issue 15, item 5), on the demo history: signing in
 * with a token, filtering (and the filters as a link), opening an instance's timeline, expanding
 * an event, a live update arriving and a dropped stream resuming, a reader and an admin each
 * seeing what policy allows and nothing more. The first view's time to interactive is measured
 * with the Performance API and printed (not asserted).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import {
  DEMO_ACTIONS,
  DEMO_INSTANCES,
  DEMO_PROJECTS,
  DEMO_USERS,
  demoRequestId,
  loadDemo,
} from '../../src/cli/demo-data.js'
import {
  chromiumSkip,
  DEMO_TOKENS,
  launchChromium,
  signInWithToken,
  startPageServer,
  watchPage,
  type PageServer,
} from './web-rig.js'

const skip = chromiumSkip()
const WEB_1 = DEMO_INSTANCES[0]?.uuid as string
const WEB_2 = DEMO_INSTANCES[1]?.uuid as string
const GPU = DEMO_INSTANCES[5]?.uuid as string
// The demo's failed resize on web-1, with a traceback and a password in it (sanitized on write).
const FAILED_RESIZE = demoRequestId(4)

describe('the Action Log page in Chromium', { skip }, () => {
  let browser: Browser

  before(async () => {
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  /** A server with the demo history, and a fresh browser tab watched for errors. */
  async function setUp(
    t: TestContext,
  ): Promise<{ server: PageServer; page: Page; problems: string[] }> {
    const server = await startPageServer(t)
    await loadDemo(server.harness.service)
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    t.after(() => context.close())
    const page = await context.newPage()
    const problems = watchPage(page)
    return { server, page, problems }
  }

  test('sign in with a token: refused tokens say so, the token stays out of the URL', async (t) => {
    const { server, page, problems } = await setUp(t)
    await page.goto(`${server.url}/ui/`)
    await page.getByLabel('Token').fill('not-a-token')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'This token was refused.' }).waitFor()
    // The service role writes; it may not read tenants' actions.
    await page.getByLabel('Token').fill(DEMO_TOKENS.service)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page
      .getByRole('alert')
      .filter({ hasText: /reader or admin|not allowed|forbidden/i })
      .waitFor()

    await page.getByLabel('Token').fill(DEMO_TOKENS.admin)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Recent actions' }).waitFor()
    await page.locator('#live[data-state="live"]').waitFor()
    assert.ok(!page.url().includes(DEMO_TOKENS.admin))
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem('actiontrail.token')),
      DEMO_TOKENS.admin,
    )
    assert.equal(await page.evaluate(() => localStorage.length), 0)
    // Every demo action, newest first, with names instead of uuids.
    await page.locator('table.actions tbody tr').first().waitFor()
    assert.equal(await page.locator('table.actions tbody tr').count(), DEMO_ACTIONS.length)
    assert.equal(
      await page.locator('table.actions tbody tr').first().locator('td').nth(1).innerText(),
      'gpu-trainer',
    )

    // The first view after a load, signed in: time to interactive from the Performance API.
    await page.reload()
    await page.locator('table.actions tbody tr').first().waitFor()
    const tti = await page.evaluate(async () => {
      for (
        let i = 0;
        i < 100 && performance.getEntriesByName('actiontrail:interactive').length === 0;
        i++
      )
        await new Promise((r) => setTimeout(r, 20))
      return performance.getEntriesByName('actiontrail:interactive')[0]?.startTime
    })
    assert.equal(typeof tti, 'number')
    console.log(
      `Action Log first view interactive after ${Math.round(tti as number)} ms (demo data, loopback)`,
    )

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Token').waitFor()
    assert.equal(await page.evaluate(() => sessionStorage.getItem('actiontrail.token')), null)
    assert.deepEqual(problems, [])
  })

  test('filters apply through the URL, deep links keep them, and "load more" pages on', async (t) => {
    const { server, page, problems } = await setUp(t)
    await signInWithToken(page, server.url, DEMO_TOKENS.admin)
    await page.getByLabel('Result').selectOption('error')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.waitForURL(/#\/actions\?result=error$/)
    await page.locator('text=Filters (1 active)').waitFor()
    const rows = page.locator('table.actions tbody tr')
    await rows.first().waitFor()
    assert.equal(await rows.count(), 3)
    for (const badge of await rows.locator('.badge').allInnerTexts()) assert.equal(badge, 'Error')

    // A link with filters opens filtered (here: one instance and one action name).
    await page.goto(`${server.url}/ui/#/actions?instance=${WEB_2}&action=live-migration`)
    await rows.first().waitFor()
    assert.equal(await rows.count(), 2)
    assert.equal(await page.locator('#filter-instance').inputValue(), WEB_2)
    assert.equal(await page.locator('#filter-action').inputValue(), 'live-migration')

    // A bad time window is the API's own 400 message, not a broken page.
    await page.goto(
      `${server.url}/ui/#/actions?since=2026-12-01T00:00:00&until=2026-11-01T00:00:00`,
    )
    await page.getByRole('alert').filter({ hasText: /since/ }).waitFor()

    // Keyset pages: 44 demo actions, 50 a page; with 60 more, "Load more" brings the rest.
    for (let n = 0; n < 60; n++)
      await server.harness.service.actionStart({
        instanceUuid: WEB_1,
        action: 'reboot',
        requestId: `req-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        userId: DEMO_USERS.alice,
        projectId: DEMO_PROJECTS.demo,
        startTime: `2026-10-01T00:00:${String(n).padStart(2, '0')}.000000`,
      })
    await page.goto(`${server.url}/ui/#/actions`)
    await rows.first().waitFor()
    assert.equal(await rows.count(), 50)
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.waitForFunction(
      () => document.querySelectorAll('table.actions tbody tr').length === 100,
    )
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.waitForFunction(
      (n) => document.querySelectorAll('table.actions tbody tr').length === n,
      DEMO_ACTIONS.length + 60,
    )
    assert.equal(await page.getByRole('button', { name: 'Load more' }).isHidden(), true)
    assert.deepEqual(problems, [])
  })

  test('an instance timeline: Gantt rows, durations, failures, and an event expanded', async (t) => {
    const { server, page, problems } = await setUp(t)
    await signInWithToken(page, server.url, DEMO_TOKENS.admin)
    await page.locator('table.actions a', { hasText: 'web-1' }).first().click()
    await page.waitForURL(new RegExp(`#/instances/${WEB_1}$`))
    await page.getByRole('heading', { name: 'Instance timeline' }).waitFor()
    await page.locator('main p.muted', { hasText: 'web-1' }).waitFor()
    const cards = page.locator('article.card')
    await cards.first().waitFor()
    assert.equal(await cards.count(), 12)
    // Newest first: the demo's last web-1 action is unlock, its first create.
    assert.equal(await cards.first().locator('h3').innerText(), 'unlock')
    assert.equal(await cards.last().locator('h3').innerText(), 'create')
    const failed = page.locator(`article.card[data-request-id="${FAILED_RESIZE}"]`)
    assert.match((await failed.getAttribute('class')) ?? '', /\berror\b/)
    // The Gantt bars: one per event, placed on the action's span, the failed one red.
    const bars = failed.locator('.bar')
    assert.equal(await bars.count(), 2)
    const widths = await bars.evaluateAll((els) =>
      els.map((e) => (e as HTMLElement).getBoundingClientRect().width),
    )
    assert.ok(
      widths.every((w) => w > 10),
      String(widths),
    )
    assert.match((await bars.nth(1).getAttribute('class')) ?? '', /\berror\b/)

    // Keyboard: focus the failed event's row and open it with Enter.
    const summary = failed.locator('details.event.error > summary')
    await summary.focus()
    await page.keyboard.press('Enter')
    const facts = failed.locator('details.event.error dl.facts')
    await facts.waitFor()
    assert.match(await facts.innerText(), /Started\s+2026-11-01 13:00:23 UTC/)
    assert.match(await facts.innerText(), /Duration\s+1\.6 s/)

    // The action's own page, from its name.
    await failed.locator('h3 a').click()
    await page.waitForURL(new RegExp(`#/instances/${WEB_1}/actions/${FAILED_RESIZE}$`))
    await page.getByRole('heading', { name: 'Action' }).waitFor()
    await page.locator('article.card').waitFor()
    assert.equal(await page.locator('article.card').count(), 1)
    assert.deepEqual(problems, [])
  })

  test('live updates: new actions and failing events appear without a reload; a dropped stream resumes', async (t) => {
    const { server, page, problems } = await setUp(t)
    const service = server.harness.service
    await signInWithToken(page, server.url, DEMO_TOKENS.admin)
    await page.locator('#live[data-state="live"]').waitFor()
    const requestId = 'req-11111111-2222-4333-8444-555555555555'
    await service.actionStart({
      instanceUuid: GPU,
      action: 'rebuild',
      requestId,
      userId: DEMO_USERS.bob,
      projectId: DEMO_PROJECTS.research,
    })
    const row = page.locator(`table.actions tr[data-request-id="${requestId}"]`)
    await row.waitFor()
    assert.equal(await row.locator('.badge').innerText(), 'Running')
    assert.equal(
      await page.locator('table.actions tbody tr').first().getAttribute('data-request-id'),
      requestId,
    )
    await service.eventStart({
      instanceUuid: GPU,
      requestId,
      event: 'rebuild_server',
      host: 'controller-1',
    })
    await service.eventFinish({
      instanceUuid: GPU,
      requestId,
      event: 'rebuild_server',
      result: 'Error',
    })
    await row.locator('.badge', { hasText: 'Error' }).waitFor()

    // The connection drops (every socket of the server closed): the page resumes from its last
    // position and says so, and a change made meanwhile still arrives.
    server.harness.app.server.closeAllConnections()
    const second = 'req-22222222-2222-4333-8444-555555555555'
    await service.actionStart({
      instanceUuid: WEB_2,
      action: 'reboot',
      requestId: second,
      userId: DEMO_USERS.alice,
      projectId: DEMO_PROJECTS.demo,
    })
    await page.locator('#live[data-state="resumed"]').waitFor()
    assert.match(await page.locator('#live').innerText(), /Reconnected: resumed after change \d+/)
    await page.locator(`table.actions tr[data-request-id="${second}"]`).waitFor()
    // Each change once: the resumed stream repeated nothing.
    assert.equal(await page.locator(`table.actions tr[data-request-id="${requestId}"]`).count(), 1)

    // The timeline is live too: an event of a new action shows in its Gantt rows.
    await page.goto(`${server.url}/ui/#/instances/${WEB_2}`)
    await page.locator('#live[data-state="live"]').waitFor()
    await service.eventStart({
      instanceUuid: WEB_2,
      requestId: second,
      event: 'compute_reboot_instance',
      host: 'compute-02',
    })
    await page
      .locator(
        `article.card[data-request-id="${second}"] details[data-event="compute_reboot_instance"]`,
      )
      .waitFor()
    // The dropped stream is the one expected network error.
    assert.deepEqual(
      problems.filter((p) => !p.includes('net::ERR_INCOMPLETE_CHUNKED_ENCODING')),
      [],
    )
  })

  test("a reader sees their project's instances without hosts or tracebacks; an admin sees both", async (t) => {
    const { server, page, problems } = await setUp(t)
    // A reader of the demo project.
    await signInWithToken(page, server.url, DEMO_TOKENS.reader)
    const rows = page.locator('table.actions tbody tr')
    await rows.first().waitFor()
    const instances = new Set(await rows.locator('td:nth-child(2)').allInnerTexts())
    assert.deepEqual([...instances].sort(), ['db-primary', 'old-build', 'web-1', 'web-2'])
    await page.goto(`${server.url}/ui/#/instances/${WEB_1}/actions/${FAILED_RESIZE}`)
    const failedEvent = page.locator('details.event.error')
    await failedEvent.locator(':scope > summary').click()
    const facts = await failedEvent.locator('dl.facts').innerText()
    assert.doesNotMatch(facts, /Host|Traceback|compute-01|No valid host/)
    assert.equal(await page.locator('pre.traceback').count(), 0)
    // Another project's instance is not found, and says nothing more.
    await page.goto(`${server.url}/ui/#/instances/${GPU}`)
    await page.locator('main .notice', { hasText: 'No actions recorded.' }).waitFor()
    // A host filter is for admins: the API's 403, shown.
    await page.goto(`${server.url}/ui/#/actions?host=compute-01`)
    await page.getByRole('alert').filter({ hasText: /admin/ }).waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()

    // An admin: host, details and the sanitized traceback, with copy to the clipboard.
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await signInWithToken(
      page,
      server.url,
      DEMO_TOKENS.admin,
      `#/instances/${WEB_1}/actions/${FAILED_RESIZE}`,
    )
    await failedEvent.locator(':scope > summary').click()
    const adminFacts = await failedEvent.locator('dl.facts').innerText()
    assert.match(adminFacts, /Host\s+compute-01/)
    assert.match(adminFacts, /Details\s+No valid host was found/)
    const block = failedEvent.locator('details.traceback-block')
    assert.equal(await block.evaluate((d) => (d as HTMLDetailsElement).open), false)
    await block.locator('summary').click()
    const traceback = await block.locator('pre.traceback').innerText()
    assert.match(traceback, /nova\/compute\/manager\.py/)
    // Sanitized before it was stored: no absolute path, no password.
    assert.doesNotMatch(traceback, /Sup3rS3cret|\/usr\/lib/)
    assert.equal(
      await block
        .locator('pre.traceback')
        .evaluate((e) => getComputedStyle(e).fontFamily.includes('mono')),
      true,
    )
    await block.getByRole('button', { name: 'Copy' }).click()
    await block.getByRole('button', { name: 'Copied' }).waitFor()
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), traceback)
    assert.deepEqual(problems, [])
  })

  test('readable at a phone width, and the dark theme follows the system', async (t) => {
    const { server } = await setUp(t)
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
    })
    t.after(() => context.close())
    const page = await context.newPage()
    await signInWithToken(page, server.url, DEMO_TOKENS.admin)
    await page.locator('table.actions tbody tr').first().waitFor()
    // Nothing wider than the screen: no sideways scrolling.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    assert.ok(overflow <= 0, `${overflow}px wider than the screen`)
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    assert.equal(background, 'rgb(15, 19, 24)')
    await page.goto(`${server.url}/ui/#/instances/${WEB_1}`)
    await page.locator('article.card').first().waitFor()
    const timelineOverflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    assert.ok(timelineOverflow <= 0, `${timelineOverflow}px wider than the screen`)
  })
})
