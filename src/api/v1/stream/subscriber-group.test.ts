/**
 * A group's share of one wake of the reader: every member gets each matching change once, in
 * position order, in one write when the share fits a step (whatever the size of the whole page),
 * and in several flushes when it is larger; the position a member has passed moves only as far as
 * what it was handed (its overflow's resume point), and to the last change looked at once done.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { InstanceAction } from '../../../domain/instance-action.js'
import type { Timestamp } from '../../../domain/timestamp.js'
import { StreamItem, type SubscriberFilter } from './stream-item.js'
import { SubscriberGroup, filterKey, type StepDelivery } from './subscriber-group.js'
import type { Subscriber } from './subscriber.js'

const T = '2026-12-07T00:00:00.000000' as Timestamp

function item(position: number, owner: string): StreamItem {
  const action: InstanceAction = {
    id: position,
    instanceUuid: `11111111-2222-4333-8444-${String(position).padStart(12, '0')}`,
    action: 'reboot',
    requestId: `req-${position}`,
    userId: 'u',
    projectId: owner,
    startTime: T,
    finishTime: null,
    message: null,
    createdAt: T,
    updatedAt: null,
  }
  return new StreamItem(
    { position, instanceUuid: action.instanceUuid, ownerProject: owner },
    action,
    undefined,
  )
}

/** A group of two members that record what they are handed. */
function group(filter: Partial<SubscriberFilter>): { g: SubscriberGroup; got: StepDelivery[][] } {
  const f: SubscriberFilter = {
    actionMessages: true,
    eventMessages: true,
    visibility: { internals: false, details: false },
    ...filter,
  }
  const g = new SubscriberGroup(filterKey(f), f)
  const got: StepDelivery[][] = [[], []]
  for (const steps of got)
    g.members.add({
      filter: f,
      deliver: (s: StepDelivery) => steps.push(s),
    } as unknown as Subscriber)
  return { g, got }
}

const positions = (steps: StepDelivery[]) => steps.flatMap((s) => s.items.map((i) => i.position))

test("a member's share of a large page is one write when it fits a step", () => {
  const { g, got } = group({ scopeProject: 'p1' })
  // 400 changes, one in 20 of the member's project: far more bytes in the page than in a step.
  const page = Array.from({ length: 400 }, (_, k) => item(k + 1, k % 20 === 0 ? 'p1' : 'p2'))
  const view = { internals: false, details: false }
  const share = page.filter((i) => i.ownerProject === 'p1')
  const step = share.reduce((n, i) => n + i.text(view).length, 0)
  assert.ok(page.reduce((n, i) => n + i.text(view).length, 0) > 10 * step)
  for (const i of page) g.consider(i)
  assert.equal(g.flush(step), false)
  for (const steps of got) {
    assert.equal(steps.length, 1)
    assert.deepEqual(
      positions(steps),
      [
        1, 21, 41, 61, 81, 101, 121, 141, 161, 181, 201, 221, 241, 261, 281, 301, 321, 341, 361,
        381,
      ],
    )
    assert.equal(steps[0]!.last, 400)
    assert.equal(steps[0]!.chunk.toString(), steps[0]!.texts.join(''))
  }
})

test('a share larger than a step comes in flushes, each change once and in order', () => {
  const { g, got } = group({})
  const page = Array.from({ length: 10 }, (_, k) => item(k + 1, 'p1'))
  const step = 3 * page[0]!.text({ internals: false, details: false }).length
  let flushes = 0
  for (const i of page) g.consider(i)
  while (g.flush(step)) flushes++
  assert.equal(flushes + 1, 4)
  for (const steps of got) {
    assert.deepEqual(positions(steps), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    // Until the last flush a member has passed only what it was handed.
    assert.deepEqual(
      steps.map((s) => s.last),
      [3, 6, 9, 10],
    )
  }
  // The next wake starts afresh.
  g.consider(item(11, 'p1'))
  assert.equal(g.flush(step), false)
  assert.deepEqual(positions(got[0]!.slice(4)), [11])
})
