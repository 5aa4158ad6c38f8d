import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { acceptanceRows, acceptanceTraces } from '../../../src/autoscale/simulator/acceptance.ts'
import { assignSticky } from '../../../src/autoscale/simulator/assignment.ts'
import { compareControllers, defaultComparisonSettings } from '../../../src/autoscale/simulator/compare.ts'
import { parseCsvTrace } from '../../../src/autoscale/simulator/csv-trace.ts'
import { SimulationInputError, TraceFormatError } from '../../../src/autoscale/simulator/errors.ts'
import {
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  hpaReconcile,
  initialHpaState
} from '../../../src/autoscale/simulator/hpa.ts'
import { kedaController } from '../../../src/autoscale/simulator/keda-controller.ts'
import { traceReport, verdictOf } from '../../../src/autoscale/simulator/report.ts'
import { runSimulation } from '../../../src/autoscale/simulator/run.ts'
import { DEFAULT_SCENARIO, withStandbyCost } from '../../../src/autoscale/simulator/scenario.ts'
import { BUILT_IN_TRACES, builtInTrace } from '../../../src/autoscale/simulator/traces.ts'

describe('simulator', () => {
  it('is deterministic: the same seed gives the same table', () => {
    for (const name of ['bursty', 'diurnal']) {
      const a = traceReport(compareControllers(builtInTrace(name, 7), defaultComparisonSettings()))
      const b = traceReport(compareControllers(builtInTrace(name, 7), defaultComparisonSettings()))
      assert.equal(a.table, b.table)
      assert.equal(a.svg, b.svg)
    }
    assert.notDeepEqual(builtInTrace('bursty', 7).rates, builtInTrace('bursty', 8).rates)
  })

  // The bars of issue 16 (no more seconds over target, at least 30% fewer replica-seconds, at most half the
  // rebalances), trace by trace with seeds 42-46, as the table in docs/autoscaling.md shows them. Where a bar is
  // missed the test pins the miss, so the docs' table stays true: a change that meets it must update the docs.
  const rows = acceptanceRows(acceptanceTraces(BUILT_IN_TRACES, 42, 5), () => defaultComparisonSettings())
  const label = (r: (typeof rows)[number]) => (r.seed === null ? r.trace : `${r.trace} seed ${r.seed}`)

  it('has no more seconds over the lag target than KEDA on every trace but bursty seed 45', () => {
    const missed = rows.filter((r) => !verdictOf(r.comparison).noMoreSecondsOverTarget).map(label)
    assert.deepEqual(missed, ['bursty seed 45'])
  })

  it('on every trace but bursty, Streamlane has at most half the rebalances (one burst: a handful)', () => {
    const missed = rows.filter((r) => !verdictOf(r.comparison).fewerRebalances).map(label)
    assert.deepEqual(missed, ['bursty seed 42', 'bursty seed 43', 'bursty seed 45'])
    const burst = rows.find((r) => r.trace === 'burst')!.comparison.streamlane.summary
    assert.ok(burst.rebalances <= 5, `one burst costs ${burst.rebalances} rebalances`)
  })

  it('saves at least 30% of the replica-seconds on step, spike, burst, ramp and bursty seed 44 only (documented)', () => {
    const missed = rows.filter((r) => !verdictOf(r.comparison).fewerReplicaSeconds).map(label)
    const seeds = (trace: string, list: number[]) => list.map((seed) => `${trace} seed ${seed}`)
    assert.deepEqual(missed, [...seeds('diurnal', [42, 43, 44, 45, 46]), ...seeds('bursty', [42, 43, 45, 46])])
    const all = rows.filter((r) => verdictOf(r.comparison).all).map(label)
    assert.deepEqual(all, ['step', 'spike', 'bursty seed 44', 'burst', 'ramp'])
  })

  it("on bursty, the rebalances it does cost stop far less than KEDA's", () => {
    // Cooperative moves of caught-up tasks (a one-second handover) instead of stop-the-world and restores.
    const c = compareControllers(builtInTrace('bursty', 42), defaultComparisonSettings())
    assert.ok(c.streamlane.summary.stalledPartitionSeconds * 5 < c.keda.summary.stalledPartitionSeconds)
  })

  it('scales in by one step after a single burst', () => {
    const settings = defaultComparisonSettings()
    const decided: number[] = []
    settings.streamlane.onDecision = (_t, decision) => {
      if (decided[decided.length - 1] !== decision.replicas) decided.push(decision.replicas)
    }
    compareControllers(builtInTrace('burst', 42), settings)
    // From 2, out for the burst (through 6 while it starts), then back to 1 in one step.
    assert.deepEqual(decided, [2, 6, 12, 1])
  })

  it('runs the default scenario with another standby upkeep (--standby-cost), a fraction below 1', () => {
    const scenario = withStandbyCost(0.48)
    assert.deepEqual(scenario, { ...DEFAULT_SCENARIO, standbyCostFraction: 0.48 })
    // More upkeep, less capacity per replica: Streamlane needs more replica-seconds on the same trace.
    const at = (s: typeof scenario) =>
      compareControllers(builtInTrace('step', 42), defaultComparisonSettings(s)).streamlane.summary.replicaSeconds
    assert.ok(at(scenario) > at(DEFAULT_SCENARIO))
    for (const bad of [1, -0.1, Number.NaN]) {
      assert.throws(
        () => withStandbyCost(bad, '--standby-cost'),
        (e: unknown) => {
          assert.ok(e instanceof SimulationInputError)
          assert.match(e.message, /--standby-cost/)
          return true
        }
      )
    }
  })

  it('reproduces KEDA getting stuck below the partition count inside the HPA tolerance', () => {
    // 11 replicas, lag asking for 12: 12 / 11 is within 10%, so the HPA keeps 11 (kedacore/keda#2908).
    const trace = { name: 'flat', description: 'flat', rates: new Array(600).fill(11_500) }
    const scenario = { ...DEFAULT_SCENARIO, initialReplicas: 11 }
    const settings = defaultComparisonSettings(scenario)
    const result = runSimulation(trace, scenario, kedaController({ ...settings.keda, lagThreshold: 2500 }, 11))
    const tail = result.timeline.slice(300)
    assert.ok(
      tail.every((p) => p.replicas === 11),
      `replicas: ${[...new Set(tail.map((p) => p.replicas))]}`
    )
  })

  it('models the HPA defaults: +4 pods or +100% per 15 s up, 300 s stabilization down', () => {
    const spec = { minReplicas: 1, maxReplicas: 50, scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN }
    const state = initialHpaState(2)
    assert.equal(hpaReconcile(spec, state, 15, 2, 30), 6, '2 -> +4')
    assert.equal(hpaReconcile(spec, state, 30, 6, 30), 12, '6 -> +100%')
    assert.equal(hpaReconcile(spec, state, 45, 12, 3), 12, 'recent high recommendations hold the count')
    assert.equal(hpaReconcile(spec, state, 300, 12, 3), 12)
    assert.equal(hpaReconcile(spec, state, 346, 12, 3), 3, '300 s after the last high one')
  })

  it('assigns balanced and sticky, preferring members with a caught-up copy', () => {
    const owners = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    const three = assignSticky(owners, [0, 1, 2])
    assert.deepEqual(
      [0, 1, 2].map((m) => three.filter((o) => o === m).length),
      [4, 4, 4]
    )
    assert.ok(
      owners.every((o, p) => o === 3 || three[p] === o),
      'nobody loses a partition it kept'
    )
    const preferred = assignSticky(owners, [0, 1, 2], (p) => (p === 9 ? [2] : []))
    assert.equal(preferred[9], 2)
  })
})

describe('CSV traces', () => {
  it('reads second,records_per_second with a header and comments, holding each rate until the next', () => {
    const trace = parseCsvTrace('second,records_per_second\n# warm up\n0,100\n3,250.5\n5,0\n', 'load.csv')
    assert.equal(trace.name, 'load')
    assert.deepEqual(trace.rates, [100, 100, 100, 250.5, 250.5, 0])
  })

  it('names the line at fault', () => {
    const line = (text: string) => {
      try {
        parseCsvTrace(text, 'x.csv')
      } catch (e) {
        assert.ok(e instanceof TraceFormatError)
        assert.equal(e.code, 'STREAMLANE_SIMULATOR_TRACE_INVALID')
        return e.line
      }
      assert.fail('expected a TraceFormatError')
    }
    assert.equal(line('0,100\n5,-3\n'), 2)
    assert.equal(line('0,100\n0,200\n'), 2)
    assert.equal(line('0,100\n1,2,3\n'), 2)
    assert.equal(line('# nothing\n'), 2)
  })

  it('rejects an unknown built-in trace name', () => {
    assert.throws(() => builtInTrace('sawtooth', 1), SimulationInputError)
  })
})

describe('report', () => {
  it('renders a readable table and a self-contained SVG with axes, legend and the lag target', () => {
    const report = traceReport(compareControllers(builtInTrace('step', 42), defaultComparisonSettings()))
    assert.match(report.table, /^\| controller +\| p50 lag \| p99 lag \| max lag \| s over target \| replica-s \|/)
    assert.equal(report.table.split('\n').length, 4)
    for (const text of [
      'KEDA kafka scaler + HPA',
      'Streamlane policy',
      'lag target 20k',
      'time (minutes)',
      'replicas (pods)'
    ]) {
      assert.ok(report.svg.includes(text), `svg has "${text}"`)
    }
    assert.match(report.svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    assert.match(report.svg, /<\/svg>\n$/)
    assert.equal(report.svg.match(/<polyline /g)?.length, 4, 'lag and replicas for each controller')
  })
})
