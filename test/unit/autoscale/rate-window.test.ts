import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  addSample,
  createRateEstimator,
  createRateWindow,
  type RateWindow,
  ratePerSecond,
  riseFastRate
} from '../../../src/autoscale/policy/rate-window.ts'

function feed(window: RateWindow, samples: [seconds: number, value: number][]): RateWindow {
  return samples.reduce((w, [s, value]) => addSample(w, { atMs: s * 1000, value }), window)
}

describe('sliding-window rate', () => {
  it('is null until the window holds enough history', () => {
    let w = createRateWindow(20_000)
    assert.equal(ratePerSecond(w), null)
    w = feed(w, [[0, 0]])
    assert.equal(ratePerSecond(w), null)
    w = feed(w, [[2, 200]])
    assert.equal(ratePerSecond(w), null, '2 s of a 20 s window says too little')
    w = feed(w, [[5, 500]])
    assert.equal(ratePerSecond(w), 100)
  })

  it('measures a constant rate exactly, and follows a change within one window', () => {
    let w = createRateWindow(10_000)
    for (let s = 0; s <= 30; s++) w = addSample(w, { atMs: s * 1000, value: s * 500 })
    assert.equal(ratePerSecond(w), 500)
    let value = 30 * 500
    for (let s = 31; s <= 40; s++) {
      value += 2000
      w = addSample(w, { atMs: s * 1000, value })
    }
    assert.equal(ratePerSecond(w), 2000)
    assert.ok(w.samples.length <= 12, 'old samples are dropped')
  })

  it('ignores samples from the past and replaces one taken at the same time', () => {
    let w = feed(createRateWindow(10_000), [
      [0, 0],
      [10, 1000]
    ])
    w = feed(w, [[5, 99_999]])
    assert.equal(ratePerSecond(w), 100)
    w = feed(w, [[10, 2000]])
    assert.equal(ratePerSecond(w), 200)
  })

  it('restarts when the counter shrinks (topic recreated), never reporting negative traffic', () => {
    let w = feed(createRateWindow(10_000), [
      [0, 0],
      [10, 5000]
    ])
    w = feed(w, [[11, 10]])
    assert.equal(ratePerSecond(w), null)
    w = feed(w, [[15, 410]])
    assert.equal(ratePerSecond(w), 100)
  })

  it('rises fast and falls slowly when a short and a long window are combined', () => {
    assert.equal(riseFastRate(1000, 9000), 9000)
    assert.equal(riseFastRate(1000, 200), 1000)
    assert.equal(riseFastRate(null, 200), 200)
    assert.equal(riseFastRate(300, null), 300)
  })

  it('behind the collector interface, goes stale instead of repeating an old rate', () => {
    const estimator = createRateEstimator(10_000)
    estimator.add(0, 0)
    estimator.add(10_000, 3000)
    assert.equal(estimator.rate(10_000), 300)
    assert.equal(estimator.rate(25_000), null)
  })
})
