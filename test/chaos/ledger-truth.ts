/**
 * The chaos test's truth and verdict: an independent count of the payments the test produced, per window and per
 * account, and how the app's last output value per key compares with it.
 */
import { addPayment, WINDOW_MS } from './ledger-app.ts'

export interface Payment {
  account: string
  amount: number
  timestamp: number
}

/** `count,sum` per `<account>@<window start>` and per account, as the app computes them, from what was produced. */
export class LedgerTruth {
  readonly windows = new Map<string, string>()
  readonly balances = new Map<string, string>()
  payments = 0

  add({ account, amount, timestamp }: Payment): void {
    const window = `${account}@${Math.floor(timestamp / WINDOW_MS) * WINDOW_MS}`
    this.windows.set(window, addPayment(this.windows.get(window) ?? '0,0', String(amount)))
    this.balances.set(account, addPayment(this.balances.get(account) ?? '0,0', String(amount)))
    this.payments++
  }
}

export interface Comparison {
  keys: number
  /** Keys whose last value has a count or a sum below the truth (a loss), or no value at all. */
  below: string[]
  equal: number
  /** Keys above the truth and none below (duplicates: allowed under at-least-once only). */
  above: number
  /** Keys in the output the truth does not have. */
  unknown: string[]
}

/** Compares the last value of each key (`count,sum`) with the truth. */
export function compare(truth: ReadonlyMap<string, string>, latest: ReadonlyMap<string, string>): Comparison {
  const result: Comparison = { keys: truth.size, below: [], equal: 0, above: 0, unknown: [] }
  for (const [key, expected] of truth) {
    const actual = latest.get(key)
    if (actual === undefined) {
      result.below.push(`${key}: missing, truth ${expected}`)
      continue
    }
    const [count, sum] = actual.split(',').map(Number) as [number, number]
    const [trueCount, trueSum] = expected.split(',').map(Number) as [number, number]
    if (count < trueCount || sum < trueSum) result.below.push(`${key}: ${actual}, truth ${expected}`)
    else if (count === trueCount && sum === trueSum) result.equal++
    else result.above++
  }
  for (const key of latest.keys()) if (!truth.has(key)) result.unknown.push(key)
  return result
}
