import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ImportedInstance } from '../../store/action-store.js'
import { SentInstances } from './sent-instances.js'

const instance = (uuid: string, projectId: string): ImportedInstance => ({
  uuid,
  name: uuid,
  projectId,
  userId: 'u',
  createdAt: '2024-01-01T00:00:00.000000' as ImportedInstance['createdAt'],
  updatedAt: '2024-01-01T00:00:00.000000' as ImportedInstance['updatedAt'],
  deletedAt: null,
})

test('an instance sent is known with its owner until the set is full, then the set starts over', () => {
  const sent = new SentInstances(2)
  sent.startBatch()
  sent.add([instance('a', 'p1')])
  assert.equal(sent.get('a'), 'p1')
  assert.equal(sent.has('b'), false)
  sent.startBatch()
  sent.add([instance('b', 'p2')])
  assert.deepEqual([sent.get('a'), sent.get('b')], ['p1', 'p2'])
  // Full: the next batch starts over, and carries its instances again.
  sent.startBatch()
  assert.deepEqual([sent.has('a'), sent.has('b')], [false, false])
})
