/**
 * Prometheus metrics whose values are read from the app when Prometheus scrapes, not pushed from the hot path: the
 * runtime keeps plain numbers (records processed, committed, restored) and these turn them into series on demand.
 */
import { Counter, Gauge, type Registry } from 'prom-client'

/**
 * One value, one value per label value (e.g. `{ late: 3, 'null-key': 0 }` for a label `reason`), or series with
 * several labels (`[[{ topic: 'in', partition: '0' }, 12]]`, with `labels` naming them).
 */
export type ScrapedValue =
  | number
  | Readonly<Record<string, number>>
  | readonly (readonly [Readonly<Record<string, string>>, number])[]

interface ScrapedMetric {
  registry: Registry
  name: string
  help: string
  /** The metric's one label, when `read` returns a value per label value. */
  label?: string
  /** The metric's labels, when `read` returns series. */
  labels?: string[]
  read: () => ScrapedValue
}

function write(
  set: (labels: Record<string, string>, value: number) => void,
  label: string | undefined,
  v: ScrapedValue
): void {
  if (typeof v === 'number') set({}, v)
  else if (Array.isArray(v)) for (const [labels, value] of v) set({ ...labels }, value)
  else for (const [labelValue, value] of Object.entries(v)) set({ [label ?? 'label']: labelValue }, value)
}

/**
 * A counter that reports a running total the app keeps. The total only grows (the runtime keeps the counts of closed
 * tasks), so replacing the value at each scrape is a valid counter.
 */
export function scrapedCounter({ registry, name, help, label, labels, read }: ScrapedMetric): Counter {
  return new Counter({
    name,
    help,
    labelNames: labels ?? (label ? [label] : []),
    registers: [registry],
    collect() {
      const value = read()
      this.reset()
      write((labels, v) => this.inc(labels, v), label, value)
    }
  })
}

/** A gauge read from the app at each scrape. */
export function scrapedGauge({ registry, name, help, label, labels, read }: ScrapedMetric): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: labels ?? (label ? [label] : []),
    registers: [registry],
    collect() {
      const value = read()
      this.reset()
      write((labels, v) => this.set(labels, v), label, value)
    }
  })
}
