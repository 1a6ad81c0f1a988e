/**
 * The index's groups: subscribers share one group (one filter check and one message buffer per
 * dispatch step) only when they are sure to get the same bytes, so an admin's view never reaches
 * a reader or a member, and a project's member never gets another project's changes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SubscriberFilter } from './stream-item.js'
import type { SubscriberGroup } from './subscriber-group.js'
import { SubscriberIndex } from './subscriber-index.js'
import type { Subscriber } from './subscriber.js'

const ADMIN = { internals: true, details: true }
const READER = { internals: false, details: false }
const VM = '11111111-2222-4333-8444-aaaaaaaaaaaa'

function sub(filter: Partial<SubscriberFilter>): Subscriber {
  const f: SubscriberFilter = {
    actionMessages: true,
    eventMessages: true,
    visibility: ADMIN,
    ...filter,
  }
  return { filter: f } as unknown as Subscriber
}

function groupsFor(index: SubscriberIndex, instance: string, owner: string): SubscriberGroup[] {
  const out: SubscriberGroup[] = []
  index.candidates(instance, owner, (g) => out.push(g))
  return out
}

test('subscribers with equal filters and views share a group; the order of action names does not matter', () => {
  const index = new SubscriberIndex()
  const a = sub({ actions: new Set(['reboot', 'stop']) })
  const b = sub({ actions: new Set(['stop', 'reboot']) })
  index.add(a)
  index.add(b)
  const groups = groupsFor(index, VM, 'p1')
  assert.equal(groups.length, 1)
  assert.deepEqual([...(groups[0] as SubscriberGroup).members], [a, b])
})

test('a different view, project scope or filter is a different group', () => {
  const index = new SubscriberIndex()
  const admin = sub({})
  const reader = sub({ visibility: READER })
  const member1 = sub({ scopeProject: 'p1', visibility: READER })
  const member2 = sub({ scopeProject: 'p2', visibility: READER })
  const owner1 = sub({ ownerProjectId: 'p1', visibility: READER })
  const instance = sub({ instanceUuid: VM })
  for (const s of [admin, reader, member1, member2, owner1, instance]) index.add(s)
  const groups = groupsFor(index, VM, 'p1')
  // p2's member is not even a candidate for p1's instance.
  assert.deepEqual(
    new Set(groups.flatMap((g) => [...g.members])),
    new Set([admin, reader, member1, owner1, instance]),
  )
  for (const g of groups) assert.equal(g.members.size, 1)
})

test('a group goes when its last member leaves; the others stay', () => {
  const index = new SubscriberIndex()
  const a = sub({ scopeProject: 'p1' })
  const b = sub({ scopeProject: 'p1' })
  index.add(a)
  index.add(b)
  index.delete(a)
  assert.equal(index.size, 1)
  assert.deepEqual([...(groupsFor(index, VM, 'p1')[0] as SubscriberGroup).members], [b])
  index.delete(b)
  assert.equal(index.size, 0)
  assert.deepEqual(groupsFor(index, VM, 'p1'), [])
})
