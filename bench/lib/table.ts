/**
 * Markdown tables for benchmark results: every benchmark prints its numbers next to a reference measured in the same
 * run, so the ratio (ours / reference) is the number that matters; absolute rates move with the machine.
 */

export type Cell = string | number
export type Align = 'left' | 'right'

export interface Table {
  headers: string[]
  rows: Cell[][]
  /** Per column; default: numbers right, text left (decided by the first row). */
  align?: Align[]
}

/** A table as GitHub-flavoured markdown, padded so it also reads well in a terminal. */
export function markdownTable(table: Table): string {
  const cells = [table.headers, ...table.rows.map((row) => row.map(String))]
  const widths = table.headers.map((_, col) => Math.max(3, ...cells.map((row) => String(row[col] ?? '').length)))
  const align = table.headers.map(
    (_, col) => table.align?.[col] ?? (typeof table.rows[0]?.[col] === 'number' ? 'right' : 'left')
  )
  const line = (row: Cell[]) =>
    `| ${row
      .map((cell, col) => {
        const text = String(cell ?? '')
        return align[col] === 'right' ? text.padStart(widths[col]!) : text.padEnd(widths[col]!)
      })
      .join(' | ')} |`
  const rule = `|${widths.map((w, col) => (align[col] === 'right' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`
  return [line(table.headers), rule, ...table.rows.map(line)].join('\n')
}

/** 1234567 -> "1,234,567". */
export function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

/** ours / reference as "0.42x"; a ratio above 1 means ours is higher (better for rates, worse for CPU). */
export function ratio(ours: number, reference: number): string {
  if (!(reference > 0) || !Number.isFinite(ours)) return 'n/a'
  return `${(ours / reference).toFixed(2)}x`
}

/** Microseconds of CPU per record, the unit in which per-record overhead is easiest to compare. */
export function cpuMicrosPerRecord(cpuSeconds: number, records: number): string {
  return records > 0 ? ((cpuSeconds * 1e6) / records).toFixed(1) : 'n/a'
}
