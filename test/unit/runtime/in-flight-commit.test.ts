import assert from 'node:assert/strict'
import { test } from 'node:test'
import { commitSettled, inFlightWaitMs } from '../../../src/runtime/in-flight-commit.ts'

/** Tasks 0_0 (stateless) and 1_0 (with stores); `busy` stay busy past any wait. */
function fake(busy: string[], exactlyOnce: boolean) {
  const committed: string[][] = []
  const settled: string[][] = []
  return {
    committed,
    settled,
    options: {
      exactlyOnce,
      commit: async (ids: string[]) => {
        committed.push(ids)
      },
      tasks: {
        taskIds: ['0_0', '1_0'],
        settle: async (ids: Iterable<string>) => {
          settled.push([...ids])
          return [...ids].filter((id) => busy.includes(id))
        },
        stateOf: (id: string) => (id.startsWith('1_') ? ({} as never) : undefined)
      }
    }
  }
}

test('at-least-once: a busy stateless task commits its finished records; a busy task with stores does not', async () => {
  const f = fake(['0_0', '1_0'], false)
  assert.deepEqual(await commitSettled(f.options as never, ['0_0', '1_0'], 10), {
    busy: ['0_0', '1_0'],
    uncommitted: ['1_0']
  })
  assert.deepEqual(f.committed, [['0_0']])
  assert.deepEqual(f.settled, [['0_0', '1_0']])
})

test('exactly-once: one busy task anywhere and nothing of the revoked tasks commits', async () => {
  const f = fake(['1_0'], true)
  assert.deepEqual(await commitSettled(f.options as never, ['0_0'], 10), { busy: [], uncommitted: ['0_0'] })
  assert.deepEqual(f.committed, [])
  assert.deepEqual(f.settled, [['0_0', '1_0']], 'every task settles: the transaction holds them all')
  const idle = fake([], true)
  assert.deepEqual(await commitSettled(idle.options as never, ['0_0'], 10), { busy: [], uncommitted: [] })
  assert.deepEqual(idle.committed, [['0_0']])
})

test('a revocation waits half the rebalance timeout; at close, half the shorter of it and the shutdown timeout', () => {
  const config = { rebalanceTimeoutMs: 60_000, shutdownTimeoutMs: 30_000 }
  assert.equal(inFlightWaitMs(config, 'rebalance'), 30_000)
  assert.equal(inFlightWaitMs(config, 'close'), 15_000)
})
