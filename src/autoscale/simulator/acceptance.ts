import { type Comparison, type ComparisonSettings, compareControllers } from './compare.ts'
import { verdictOf } from './report.ts'
import { builtInTrace, type LoadTrace } from './traces.ts'

/** Traces whose shape depends on the seed; the others are the same for every seed. */
const SEEDED_TRACES: readonly string[] = ['diurnal', 'bursty']

/** One row of the acceptance table: one trace (and seed), both controllers' totals and the bars met. */
export interface AcceptanceRow {
  trace: string
  seed: number | null
  comparison: Comparison
}

/** The traces to check: each seeded trace once per seed (`firstSeed` .. `firstSeed + seeds - 1`), the others once. */
export function acceptanceTraces(names: readonly string[], firstSeed: number, seeds: number): LoadTrace[] {
  const traces: LoadTrace[] = []
  for (const name of names) {
    if (!SEEDED_TRACES.includes(name)) traces.push(builtInTrace(name, firstSeed))
    else for (let i = 0; i < seeds; i++) traces.push({ ...builtInTrace(name, firstSeed + i), seed: firstSeed + i })
  }
  return traces
}

export function acceptanceRows(traces: readonly LoadTrace[], settings: () => ComparisonSettings): AcceptanceRow[] {
  return traces.map((trace) => ({
    trace: trace.name,
    seed: trace.seed ?? null,
    comparison: compareControllers(trace, settings())
  }))
}

/**
 * The bars on every trace, as a markdown table: seconds over the lag target, replica-seconds and rebalances,
 * KEDA's scaler then Streamlane's policy, and whether Streamlane met all three bars.
 */
export function acceptanceTable(rows: readonly AcceptanceRow[]): string {
  const header = [
    'trace',
    's over target (KEDA / Streamlane)',
    'replica-s (KEDA / Streamlane)',
    'saving',
    'rebalances (KEDA / Streamlane)',
    'all bars'
  ]
  const cells = rows.map(({ trace, seed, comparison }) => {
    const k = comparison.keda.summary
    const s = comparison.streamlane.summary
    const v = verdictOf(comparison)
    const saving = k.replicaSeconds > 0 ? Math.round((1 - s.replicaSeconds / k.replicaSeconds) * 100) : 0
    return [
      seed === null ? trace : `${trace} (seed ${seed})`,
      `${group(k.secondsOverTarget)} / ${group(s.secondsOverTarget)}${v.noMoreSecondsOverTarget ? '' : ' **x**'}`,
      `${group(k.replicaSeconds)} / ${group(s.replicaSeconds)}`,
      `${saving}%${v.fewerReplicaSeconds ? '' : ' **x**'}`,
      `${k.rebalances} / ${s.rebalances}${v.fewerRebalances ? '' : ' **x**'}`,
      v.all ? 'yes' : '**no**'
    ]
  })
  const all = [header, ...cells]
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)))
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...cells.map(line)].join('\n')
}

function group(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}
