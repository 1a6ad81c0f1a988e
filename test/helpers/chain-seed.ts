/**
 * A small history for the hash chain's tests: two instances (one moved to another project
 * afterwards, which rewrites copied owner columns without a change note), actions with started,
 * finished and failed events, and one action without events (which a test can delete without a
 * foreign key in the way).
 */
import type { Timestamp } from '../../src/domain/timestamp.js'
import type { ActionStore } from '../../src/store/action-store.js'
import { TestStore } from './store-ops.js'

const two = (n: number) => String(n).padStart(2, '0')
/** 10:00 plus `s` seconds on 2026-01-01. */
export const chainAt = (s: number) =>
  `2026-01-01T10:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}.000000` as Timestamp
/** A test instance uuid. */
export const chainVm = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

/** What the seed wrote, by id. */
export interface ChainSeed {
  /** An action with events. */
  actionId: number
  /** An action without events. */
  lonelyActionId: number
  /** A finished event of `actionId`. */
  eventId: number
}

/** Writes the history; `prefix` keeps request ids apart when called twice on one store. */
export async function seedChainHistory(actions: ActionStore, prefix = 'req'): Promise<ChainSeed> {
  const store = new TestStore(actions)
  for (const n of [1, 2])
    await store.putInstance({
      uuid: chainVm(n),
      name: `vm${n}`,
      projectId: 'p1',
      userId: 'u',
      now: chainAt(0),
    })
  let actionId = 0
  let eventId = 0
  for (let i = 0; i < 4; i++) {
    const instanceUuid = chainVm(1 + (i % 2))
    const requestId = `${prefix}-${i}`
    const { action } = await store.startAction({
      instanceUuid,
      action: 'reboot',
      requestId,
      userId: 'u',
      projectId: 'p1',
      startTime: chainAt(i * 10),
      createdAt: chainAt(i * 10),
    })
    actionId = action.id
    const ev = { instanceUuid, requestId, event: 'compute_reboot_instance' }
    const event = await store.startEvent({
      ...ev,
      host: 'h1',
      startTime: chainAt(i * 10 + 1),
      createdAt: chainAt(i * 10 + 1),
    })
    eventId = event.id
    await store.finishEvent({
      ...ev,
      finishTime: chainAt(i * 10 + 2),
      result: i === 1 ? 'Error' : 'Success',
      traceback: i === 1 ? 'Traceback (most recent call last):\n  boom' : null,
      details: i === 1 ? 'boom' : null,
      updatedAt: chainAt(i * 10 + 2),
    })
    await store.finishAction({ instanceUuid, requestId, finishTime: chainAt(i * 10 + 3) })
  }
  const { action: lonely } = await store.startAction({
    instanceUuid: chainVm(1),
    action: 'stop',
    requestId: `${prefix}-lonely`,
    userId: null,
    projectId: null,
    startTime: chainAt(50),
    createdAt: chainAt(50),
  })
  // The instance moves: owner_project_id is rewritten on its actions and events, unnoted.
  await store.putInstance({
    uuid: chainVm(2),
    name: 'vm2',
    projectId: 'p2',
    userId: 'u',
    now: chainAt(60),
  })
  return { actionId, lonelyActionId: lonely.id, eventId }
}
