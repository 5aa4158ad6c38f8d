/**
 * The scaling timeline of a StatefulSet under KEDA: every second, the replica count the HPA wants (status of
 * keda-hpa-<name>), the StatefulSet's spec and ready replicas, and the group's lag; a row is kept when any of them
 * changed. Printed as the table docs/kubernetes-local.md shows.
 */
import type { KubeClient } from '../../scripts/k8s/kube-client.ts'

export interface TimelineRow {
  /** Seconds since the timeline's zero (the burst). */
  at: number
  lag: number
  hpaDesired: number | undefined
  replicas: number
  ready: number
}

export class ReplicaTimeline {
  readonly rows: TimelineRow[] = []
  #zero = Date.now()
  #running = true
  readonly #done: Promise<void>

  constructor(client: KubeClient, namespace: string, name: string, lag: () => Promise<number>) {
    this.#done = (async () => {
      while (this.#running) {
        const sampled = Date.now()
        try {
          const sts = await client.get(`/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}`)
          const hpa = await client
            .get(`/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/keda-hpa-${name}`)
            .catch(() => undefined)
          this.#add({
            at: (sampled - this.#zero) / 1000,
            lag: await lag(),
            hpaDesired: hpa?.status?.desiredReplicas,
            replicas: sts.spec.replicas,
            ready: sts.status?.readyReplicas ?? 0
          })
        } catch {
          // A failed sample is skipped; the next one a second later tells the same story.
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - sampled))))
      }
    })()
  }

  /** Counts times from now on (the burst); rows taken before keep their negative times. */
  markZero(): void {
    const shift = (Date.now() - this.#zero) / 1000
    for (const row of this.rows) row.at -= shift
    this.#zero = Date.now()
  }

  #add(row: TimelineRow): void {
    const last = this.rows.at(-1)
    const changed =
      !last ||
      last.replicas !== row.replicas ||
      last.ready !== row.ready ||
      last.hpaDesired !== row.hpaDesired ||
      (last.lag === 0) !== (row.lag === 0)
    if (changed) this.rows.push(row)
  }

  latest(): TimelineRow | undefined {
    return this.rows.at(-1)
  }

  maxReplicas(): number {
    return Math.max(0, ...this.rows.map((row) => row.replicas))
  }

  async stop(): Promise<void> {
    this.#running = false
    await this.#done
  }

  table(): string {
    const lines = [
      '| t (s) | lag (lines) | HPA desired | StatefulSet replicas | ready |',
      '| ---: | ---: | ---: | ---: | ---: |'
    ]
    for (const row of this.rows) {
      lines.push(`| ${row.at.toFixed(0)} | ${row.lag} | ${row.hpaDesired ?? '-'} | ${row.replicas} | ${row.ready} |`)
    }
    return lines.join('\n')
  }
}
