/**
 * The app the chaos test runs (as `streamlane run` child processes): payments in, keyed by account, with a positive
 * amount as value. Two results per account, both with the record cache on, as an app would run:
 *
 * - `<account>@<window start>` -> `count,sum` of the payments in each tumbling window (WINDOW_MS, grace GRACE_MS),
 *   updated as payments arrive; once a window has closed its last value must never go below the truth;
 * - `<account>` -> `count,sum` of all its payments so far (a running total).
 */
import { defineApp, Materialized, Serdes, StreamsBuilder, TimeWindows, type Topology } from '../../src/index.ts'

export const WINDOW_MS = 4_000
export const GRACE_MS = 3_000

const topics = {
  payments: process.env.PAYMENTS_TOPIC ?? 'payments',
  windows: process.env.WINDOW_TOTALS_TOPIC ?? 'window-totals',
  balances: process.env.BALANCES_TOPIC ?? 'balances'
}

/** `count,sum` plus one payment of `amount`. */
export function addPayment(totals: string, amount: string): string {
  const [count, sum] = totals.split(',').map(Number) as [number, number]
  return `${count + 1},${sum + Number(amount)}`
}

function ledger(): Topology {
  const builder = new StreamsBuilder()
  const byAccount = builder
    .stream(topics.payments, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .groupByKey()
  const totals = { valueSerde: Serdes.string() }
  byAccount
    .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, GRACE_MS))
    .aggregate(
      () => '0,0',
      (_, amount, total) => addPayment(total, amount),
      Materialized.as('window-totals', totals)
    )
    .toStream()
    .map((windowed, total): [string, string] => [`${windowed.key}@${windowed.window.start}`, total])
    .to(topics.windows, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  byAccount
    .aggregate(
      () => '0,0',
      (_, amount, total) => addPayment(total, amount),
      Materialized.as('balances', totals)
    )
    .toStream()
    .to(topics.balances, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  return builder.build()
}

export default defineApp({ topology: ledger, config: { applicationId: 'ledger' } })
