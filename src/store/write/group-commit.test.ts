import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppError } from '../../domain/errors.js'
import type { WriteOutcome } from '../../domain/write-operation.js'
import type { StoreWrite } from '../action-store.js'
import { GroupCommitter } from './group-commit.js'
import type { WriteExecutor } from './write-executor.js'

const op = (uuid: string): StoreWrite => ({
  op: 'instance_delete',
  uuid,
  at: '2026-01-01T00:00:00.000000' as never,
})
const echo = (ops: readonly StoreWrite[]): WriteOutcome[] =>
  ops.map((o) => ({
    ok: false,
    error: new AppError('instance_not_found', o.op === 'instance_delete' ? o.uuid : '?'),
  }))
const tag = (outcomes: WriteOutcome[]) => outcomes.map((o) => (o.ok ? 'ok' : o.error.message))

/** An executor whose transactions finish when the test says, recording what each one held. */
function gatedExecutor(concurrency?: number) {
  const transactions: {
    ops: readonly StoreWrite[]
    finish: () => void
    fail: (err: unknown) => void
  }[] = []
  let running = 0
  let maxRunning = 0
  const executor: WriteExecutor = {
    ...(concurrency === undefined ? {} : { concurrency }),
    execute(ops) {
      running++
      maxRunning = Math.max(maxRunning, running)
      return new Promise((resolve, reject) => {
        transactions.push({
          ops,
          finish: () => {
            running--
            resolve(echo(ops))
          },
          fail: (err) => {
            running--
            reject(err)
          },
        })
      })
    },
  }
  return { executor, transactions, maxRunning: () => maxRunning }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

test('writes submitted in one turn share one transaction, and each submitter gets its own outcomes', async () => {
  const g = gatedExecutor()
  const committer = new GroupCommitter(g.executor)
  const a = committer.submit([op('a1'), op('a2')])
  const b = committer.submit([op('b1')])
  await turn()
  assert.equal(g.transactions.length, 1)
  assert.deepEqual(
    g.transactions[0]?.ops.map((o) => (o.op === 'instance_delete' ? o.uuid : '')),
    ['a1', 'a2', 'b1'],
  )
  g.transactions[0]?.finish()
  assert.deepEqual(tag(await a), ['a1', 'a2'])
  assert.deepEqual(tag(await b), ['b1'])
})

test('one transaction at a time by default: later writes wait and then commit together', async () => {
  const g = gatedExecutor()
  const committer = new GroupCommitter(g.executor)
  const first = committer.submit([op('x')])
  await turn()
  const later = [committer.submit([op('y')]), committer.submit([op('z')])]
  await turn()
  assert.equal(g.transactions.length, 1, 'the second group waits for the first commit')
  g.transactions[0]?.finish()
  await first
  await turn()
  assert.equal(g.transactions.length, 2)
  g.transactions[1]?.finish()
  assert.deepEqual((await Promise.all(later)).map(tag), [['y'], ['z']])
  assert.equal(g.maxRunning(), 1)
})

test('an executor with concurrency 3 gets up to three transactions at once, never more', async () => {
  const g = gatedExecutor(3)
  const committer = new GroupCommitter(g.executor)
  const done: Promise<WriteOutcome[]>[] = []
  for (let i = 0; i < 5; i++) {
    done.push(committer.submit([op(`w${i}`)]))
    await turn()
  }
  assert.equal(g.transactions.length, 3, 'three in flight; the rest queue')
  g.transactions[0]?.finish()
  await done[0]
  await turn()
  assert.equal(g.transactions.length, 4)
  assert.deepEqual(
    g.transactions[3]?.ops.map((o) => (o.op === 'instance_delete' ? o.uuid : '')),
    ['w3', 'w4'],
    'what queued meanwhile commits together',
  )
  for (const t of g.transactions.slice(1)) t.finish()
  assert.deepEqual((await Promise.all(done)).map(tag), [['w0'], ['w1'], ['w2'], ['w3'], ['w4']])
  assert.equal(g.maxRunning(), 3)
})

test('a group never exceeds maxOpsPerCommit unless one submission alone does', async () => {
  const g = gatedExecutor()
  const committer = new GroupCommitter(g.executor, { maxOpsPerCommit: 3 })
  const big = committer.submit([op('1'), op('2'), op('3'), op('4')])
  const small = [committer.submit([op('5')]), committer.submit([op('6'), op('7')])]
  await turn()
  assert.equal(g.transactions[0]?.ops.length, 4)
  g.transactions[0]?.finish()
  await big
  await turn()
  assert.equal(g.transactions[1]?.ops.length, 3)
  g.transactions[1]?.finish()
  assert.deepEqual((await Promise.all(small)).map(tag), [['5'], ['6', '7']])
})

test('a failed transaction rejects its own submitters only', async () => {
  const g = gatedExecutor(2)
  const committer = new GroupCommitter(g.executor)
  const lost = committer.submit([op('lost')])
  await turn()
  const kept = committer.submit([op('kept')])
  await turn()
  g.transactions[0]?.fail(new AppError('store_unavailable', 'down'))
  g.transactions[1]?.finish()
  await assert.rejects(lost, (e) => e instanceof AppError && e.code === 'store_unavailable')
  assert.deepEqual(tag(await kept), ['kept'])
})
