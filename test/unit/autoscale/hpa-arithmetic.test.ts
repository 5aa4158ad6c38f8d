import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type HpaModel,
  hpaCanReach,
  hpaReplicasForAverageValue,
  kedaMetricValue
} from '../../../src/autoscale/policy/hpa-arithmetic.ts'

const hpa = (overrides: Partial<HpaModel> = {}): HpaModel => ({
  tolerance: 0.1,
  minReplicas: 1,
  maxReplicas: 40,
  ...overrides
})

/** What the HPA does with the metric the scaler reports: the model of replica_calculator.go. */
function landsOn(replicas: number, current: number, model: HpaModel): number {
  const metric = kedaMetricValue({ replicas, currentReplicas: current, hpa: model })
  return hpaReplicasForAverageValue({
    metricValue: metric.metricValue,
    targetAverageValue: metric.target,
    currentReplicas: current,
    hpa: model
  })
}

describe('HPA AverageValue arithmetic', () => {
  it('models the tolerance band: within 10% the HPA keeps the current count', () => {
    const m = hpa()
    assert.equal(
      hpaReplicasForAverageValue({ metricValue: 10.5, targetAverageValue: 1, currentReplicas: 10, hpa: m }),
      10
    )
    assert.equal(
      hpaReplicasForAverageValue({ metricValue: 11.5, targetAverageValue: 1, currentReplicas: 10, hpa: m }),
      12
    )
    assert.equal(hpaReplicasForAverageValue({ metricValue: 2.4, targetAverageValue: 1, currentReplicas: 4, hpa: m }), 3)
    // KEDA truncates floats to milli-units before the HPA divides.
    assert.equal(
      hpaReplicasForAverageValue({ metricValue: 3.0004, targetAverageValue: 1, currentReplicas: 5, hpa: m }),
      3
    )
  })

  it('reports metric = replicas x target whenever that lands, so the HPA desired count is the decision', () => {
    const metric = kedaMetricValue({ replicas: 7, currentReplicas: 3, hpa: hpa() })
    assert.deepEqual(metric, { metricValue: 7, target: 1, active: true, hpaReplicas: 7, exact: true })
    assert.equal(landsOn(7, 3, hpa()), 7)
  })

  it('lands exactly on every count outside the band, and on the bounds from inside it', () => {
    const m = hpa({ maxReplicas: 24, minReplicas: 2 })
    for (let current = 1; current <= 24; current++) {
      for (let replicas = 2; replicas <= 24; replicas++) {
        const ratio = replicas / current
        const outside = ratio > 1.1 || ratio < 0.9
        const bound = (replicas === 24 && replicas > current) || (replicas === 2 && replicas < current)
        if (replicas === current || outside || bound) {
          assert.ok(hpaCanReach(current, replicas, m), `${current} -> ${replicas} should be reachable`)
          assert.equal(landsOn(replicas, current, m), replicas, `${current} -> ${replicas}`)
        }
      }
    }
  })

  it('says when a step inside the band cannot be reached', () => {
    const metric = kedaMetricValue({ replicas: 11, currentReplicas: 10, hpa: hpa() })
    assert.equal(metric.exact, false)
    assert.equal(metric.hpaReplicas, 10)
    assert.equal(hpaCanReach(10, 11, hpa()), false)
    assert.equal(hpaCanReach(20, 19, hpa()), false)
  })

  it('reaches the max from inside the band by overshooting it (the stuck-at-N-1 case)', () => {
    const m = hpa({ maxReplicas: 12 })
    const metric = kedaMetricValue({ replicas: 12, currentReplicas: 11, hpa: m })
    assert.equal(metric.exact, true)
    assert.ok(metric.metricValue > 12 * 1.0, 'overshoots so the ratio leaves the band')
    assert.equal(landsOn(12, 11, m), 12)
  })

  it('with a scale-down pod limit, one-pod steps go through the band', () => {
    const m = hpa({ scaleDownLimit: 1 })
    for (let current = 11; current <= 40; current++) assert.equal(landsOn(current - 1, current, m), current - 1)
    const two = hpa({ scaleDownLimit: 2 })
    assert.equal(landsOn(18, 20, two), 18)
  })

  it('reports inactive at zero so KEDA takes the target to zero, and holds the HPA until it does', () => {
    // A metric of 0 would make the HPA scale 12 -> 1 (its minReplicas) before KEDA's poll takes the target to zero:
    // an extra rebalance, and a scale-in step far larger than the policy allows. The current count holds it.
    const toZero = kedaMetricValue({ replicas: 0, currentReplicas: 12, hpa: hpa() })
    assert.deepEqual(toZero, { metricValue: 12, target: 1, active: false, hpaReplicas: 12, exact: true })
    assert.equal(landsOn(0, 12, hpa()), 12, 'the HPA keeps 12 until KEDA scales to zero')
    assert.equal(landsOn(0, 12, hpa({ scaleDownLimit: 2 })), 12)
    assert.deepEqual(kedaMetricValue({ replicas: 0, currentReplicas: 0, hpa: hpa() }), {
      metricValue: 0,
      target: 1,
      active: false,
      hpaReplicas: 0,
      exact: true
    })
    assert.equal(kedaMetricValue({ replicas: 4, currentReplicas: 0, hpa: hpa() }).active, true)
  })
})
