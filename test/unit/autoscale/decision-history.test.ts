import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DecisionHistory } from '../../../src/autoscale/keda/decision-history.ts'
import type { Evaluation } from '../../../src/autoscale/keda/scaler-service.ts'

function evaluation(key: string, at: number, replicas: number, lag: number): Evaluation {
  return {
    key,
    at,
    replicas,
    currentReplicas: replicas - 1,
    reason: `lag ${lag}`,
    signals: { snapshot: { totalLag: lag }, rates: { arrivalRate: 10, commitRate: null } }
  } as unknown as Evaluation
}

test("keeps each object's evaluations in order, the last maxPoints of them", () => {
  const history = new DecisionHistory({ maxPoints: 3 })
  for (let i = 0; i < 5; i++) history.record(evaluation('shop/orders', 1_000 * i, i + 1, 100 * i), 'orders')
  const [orders] = history.objects()
  assert.equal(orders!.group, 'orders')
  assert.deepEqual(
    orders!.points.map((p) => [p.at, p.replicas, p.members, p.lag, p.arrivalRate, p.commitRate, p.reason]),
    [
      [2_000, 3, 2, 200, 10, null, 'lag 200'],
      [3_000, 4, 3, 300, 10, null, 'lag 300'],
      [4_000, 5, 4, 400, 10, null, 'lag 400']
    ]
  )
})

test('most recently evaluated first; the least recently evaluated object goes beyond maxObjects', () => {
  const history = new DecisionHistory({ maxObjects: 2 })
  history.record(evaluation('a/a', 1, 1, 0), 'a')
  history.record(evaluation('b/b', 2, 1, 0), 'b')
  history.record(evaluation('a/a', 3, 1, 0), 'a')
  history.record(evaluation('c/c', 4, 1, 0), 'c')
  assert.deepEqual(
    history.objects().map((o) => [o.key, o.points.length]),
    [
      ['c/c', 1],
      ['a/a', 2]
    ]
  )
  // A copy: the caller cannot change the history.
  history.objects()[0]!.points.length = 0
  assert.equal(history.objects()[0]!.points.length, 1)
})
