import type { SimulationSummary } from './run.ts'

const COLUMNS: { title: string; value: (s: SimulationSummary) => string }[] = [
  { title: 'controller', value: (s) => s.controller },
  { title: 'p50 lag', value: (s) => group(s.p50Lag) },
  { title: 'p99 lag', value: (s) => group(s.p99Lag) },
  { title: 'max lag', value: (s) => group(s.maxLag) },
  { title: 's over target', value: (s) => group(s.secondsOverTarget) },
  { title: 'replica-s', value: (s) => group(s.replicaSeconds) },
  { title: 'scale events', value: (s) => group(s.scaleEvents) },
  { title: 'rebalances', value: (s) => group(s.rebalances) },
  { title: 'stalled partition-s', value: (s) => group(s.stalledPartitionSeconds) }
]

/** A markdown table, aligned so it also reads well in a terminal. */
export function summaryTable(rows: readonly SimulationSummary[]): string {
  const cells = [COLUMNS.map((c) => c.title), ...rows.map((r) => COLUMNS.map((c) => c.value(r)))]
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)))
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n')
}

/** Thousands separated by commas, so large counts scan at a glance. */
function group(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}
