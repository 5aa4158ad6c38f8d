/** Numbers as a decision's reason shows them. */

export function rate(recordsPerSecond: number): string {
  return `${num(recordsPerSecond)} rec/s`
}

export function count(value: number): string {
  return String(Math.round(value))
}

export function num(value: number): string {
  if (Math.abs(value) >= 100) return String(Math.round(value))
  return String(Math.round(value * 100) / 100)
}

export function pct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`
}
