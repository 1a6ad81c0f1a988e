/**
 * Everything a writer controls is shown as text, never run (issue 15, item 4): an instance name,
 * action names, request, user and project ids, event names, hosts, details and tracebacks holding
 * `<script>`, `<img onerror>`, `javascript:` URLs and look-alike Unicode are stored through the
 * service, then the page is opened in Chromium as an admin (who sees every field) and as a reader.
 * Nothing may execute (no dialog, no global set, no element made from the text), the text must
 * show literally, and the Content-Security-Policy must refuse inline script and HTML sinks.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { DEMO_PROJECTS, DEMO_USERS } from '../../src/cli/demo-data.js'
import { UI_CONTENT_SECURITY_POLICY } from '../../src/api/ui/security-headers.js'
import {
  chromiumSkip,
  DEMO_TOKENS,
  launchChromium,
  signInWithToken,
  startPageServer,
  watchPage,
} from './web-rig.js'

const skip = chromiumSkip()

const INSTANCE = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
const LOOKALIKE_INSTANCE = '8b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e'
const PAYLOADS = {
  instanceName: `<img src=x onerror="window.__pwned='instance-name'">`,
  // Cyrillic е (U+0435) in place of the Latin e: must not be shown as "web-1".
  lookalikeName: 'w\u0435b-1',
  action: `<script>window.__pwned='action'</script>`,
  requestId: `javascript:alert('request-id')`,
  user: `"><svg onload="window.__pwned='user'">`,
  event: `<img src=x onerror=alert('event')>`,
  fullwidthEvent: '\uff1cscript\uff1ealert(1)\uff1c/script\uff1e',
  host: `javascript:window.__pwned='host'`,
  details: `<b>bold?</b><iframe src="javascript:alert('details')"></iframe>`,
  traceback:
    `</pre><script>window.__pwned='traceback'</script>\n` +
    `  File "x.py", line 1, in <img src=x onerror=alert('tb')>\n`,
  liveAction: `<img src=x onerror="window.__pwned='live'">`,
}

describe('stored text is never run', { skip }, () => {
  let browser: Browser
  before(async () => {
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  /** Nothing ran and no element was made from stored text. */
  async function assertInert(page: Page, problems: string[]): Promise<void> {
    assert.equal(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined)
    assert.equal(
      await page.locator('main img, main script, main svg, main iframe, main b').count(),
      0,
    )
    // Every link goes to a route of the page.
    for (const href of await page
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href'))))
      assert.match(String(href), /^#\//)
    assert.deepEqual(problems, [])
  }

  test('as an admin and as a reader, in the list, the timeline, the detail and live', async (t) => {
    const { url, harness } = await startPageServer(t)
    const service = harness.service
    const project = DEMO_PROJECTS.demo
    await service.putInstance({
      uuid: INSTANCE,
      name: PAYLOADS.instanceName,
      projectId: project,
      userId: DEMO_USERS.alice,
    })
    await service.putInstance({
      uuid: LOOKALIKE_INSTANCE,
      name: PAYLOADS.lookalikeName,
      projectId: project,
      userId: DEMO_USERS.alice,
    })
    await service.actionStart({
      instanceUuid: INSTANCE,
      action: PAYLOADS.action,
      requestId: PAYLOADS.requestId,
      userId: PAYLOADS.user,
      projectId: project,
    })
    for (const event of [PAYLOADS.event, PAYLOADS.fullwidthEvent]) {
      await service.eventStart({
        instanceUuid: INSTANCE,
        requestId: PAYLOADS.requestId,
        event,
        host: PAYLOADS.host,
      })
      await service.eventFinish({
        instanceUuid: INSTANCE,
        requestId: PAYLOADS.requestId,
        event,
        result: 'Error',
        details: PAYLOADS.details,
        traceback: PAYLOADS.traceback,
      })
    }
    await service.actionStart({
      instanceUuid: LOOKALIKE_INSTANCE,
      action: 'reboot',
      requestId: 'req-00000000-1111-4222-8333-444444444444',
      userId: DEMO_USERS.alice,
      projectId: project,
    })

    const storedEvents = async () => {
      const res = await harness.app.inject({
        url: `/v1/actions?instance=${INSTANCE}&include=events`,
        headers: { 'x-auth-token': DEMO_TOKENS.admin },
      })
      const actions = res.json().actions as {
        events: { details: string | null; traceback: string | null }[]
      }[]
      return actions.flatMap((a) => a.events)
    }

    const context = await browser.newContext()
    t.after(() => context.close())
    const page = await context.newPage()
    const problems = watchPage(page)
    const response = await page.goto(`${url}/ui/`)
    assert.equal(response?.headers()['content-security-policy'], UI_CONTENT_SECURITY_POLICY)

    for (const token of [DEMO_TOKENS.admin, DEMO_TOKENS.reader]) {
      await signInWithToken(page, url, token)
      // The list: names and ids as text.
      const row = page.locator('table.actions tbody tr', { hasText: PAYLOADS.action })
      await row.waitFor()
      assert.equal(await row.locator('td').nth(1).innerText(), PAYLOADS.instanceName)
      assert.equal(await row.locator('td').nth(2).innerText(), PAYLOADS.action)
      assert.equal(await row.locator('td').nth(6).getAttribute('title'), PAYLOADS.user)
      const lookalike = page
        .locator('table.actions tbody tr', { hasText: 'reboot' })
        .locator('td')
        .nth(1)
      assert.equal(await lookalike.innerText(), PAYLOADS.lookalikeName)
      assert.notEqual(await lookalike.innerText(), 'web-1')
      await assertInert(page, problems)

      // The timeline and the detail, every event opened (and, for the admin, every traceback).
      await row.locator('td').nth(2).locator('a').click()
      await page.locator('article.card').waitFor()
      assert.equal(await page.locator('article.card h3').innerText(), PAYLOADS.action)
      assert.match(
        await page.locator('main').innerText(),
        new RegExp(`request ${escape(PAYLOADS.requestId)}`),
      )
      for (const summary of await page.locator('details.event > summary').all())
        await summary.click()
      for (const summary of await page.locator('details.traceback-block > summary').all())
        await summary.click()
      const names = await page.locator('details.event .name').allInnerTexts()
      assert.deepEqual(names.sort(), [PAYLOADS.event, PAYLOADS.fullwidthEvent].sort())
      const text = await page.locator('main').innerText()
      if (token === DEMO_TOKENS.admin) {
        // As stored: the server sanitized details and tracebacks on write (paths made relative,
        // which also touches `</b>`-like text); the page shows exactly what the API answers.
        const stored = await storedEvents()
        assert.ok(text.includes(PAYLOADS.host), 'the host, as text')
        for (const e of stored) assert.ok(text.includes(e.details as string), e.details as string)
        const tracebacks = await page.locator('pre.traceback').allTextContents()
        assert.deepEqual(tracebacks.sort(), stored.map((e) => e.traceback as string).sort())
        for (const tb of tracebacks) {
          assert.match(tb, /<script>window.__pwned='traceback'/)
          assert.ok(tb.includes(`<img src=x onerror=alert('tb')>`), tb)
        }
      } else {
        assert.ok(!text.includes(PAYLOADS.host), 'no host for a reader')
        assert.ok(
          !text.includes("__pwned='traceback'") && !/Host|Traceback|Details/.test(text),
          text,
        )
      }
      await assertInert(page, problems)

      // A live action with a payload in its name, arriving through the stream.
      await page.goto(`${url}/ui/#/actions`)
      await page.locator('#live[data-state="live"]').waitFor()
      const liveId = `req-live-${token.slice(-4)}`
      await service.actionStart({
        instanceUuid: INSTANCE,
        action: PAYLOADS.liveAction,
        requestId: liveId,
        userId: DEMO_USERS.alice,
        projectId: project,
      })
      const live = page.locator(`table.actions tr[data-request-id="${liveId}"]`)
      await live.waitFor()
      assert.equal(await live.locator('td').nth(2).innerText(), PAYLOADS.liveAction)
      await assertInert(page, problems)
      await page.getByRole('button', { name: 'Sign out' }).click()
    }

    // The policy itself: HTML sinks and inline script are refused in this page.
    const sinks = await page.evaluate(() => {
      const results: string[] = []
      try {
        document.body.insertAdjacentHTML('beforeend', `<img src=x onerror="window.__pwned='sink'">`)
        results.push('insertAdjacentHTML allowed')
      } catch (err) {
        results.push((err as Error).name)
      }
      try {
        const s = document.createElement('script')
        s.textContent = "window.__pwned='inline'"
        document.body.append(s)
        results.push('inline script appended')
      } catch (err) {
        results.push((err as Error).name)
      }
      return results
    })
    assert.deepEqual(sinks, ['TypeError', 'TypeError'])
    assert.equal(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined)
  })
})

/** `text` as a literal in a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
