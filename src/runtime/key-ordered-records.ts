/**
 * The input of one task in key-ordered mode (`processingOrder: 'key'`, `maxConcurrencyPerTask` > 1): fetched
 * records wait in a KeyOrderedQueue instead of the task's own buffers; the scheduler starts them through
 * `startNext()`, several at once, one per key, each run by the task's graph with its own record context. Which
 * topologies may run so: `checkKeyOrderedTopology`.
 */
import { ConfigError } from '../errors.ts'
import type { ConsumedRecord } from '../kafka/index.ts'
import type { RawRecord, TaskProcessorGraph, TopologyPlan } from '../topology/index.ts'
import type { StreamsConfig } from './config.ts'
import { KeyOrderedQueue } from './key-ordered-queue.ts'
import type { KeyOrderedRecords } from './record-scheduler.ts'

export class KeyOrderedTaskRecords implements KeyOrderedRecords {
  readonly limit: number
  readonly queue = new KeyOrderedQueue<ConsumedRecord>()
  readonly #graph: Pick<TaskProcessorGraph, 'processConcurrently'>
  readonly #toRaw: (record: ConsumedRecord) => RawRecord

  constructor(
    graph: Pick<TaskProcessorGraph, 'processConcurrently'>,
    limit: number,
    toRaw: (record: ConsumedRecord) => RawRecord
  ) {
    this.#graph = graph
    this.limit = limit
    this.#toRaw = toRaw
  }

  startNext(holesOnly: boolean): boolean | Promise<boolean> | undefined {
    const taken = this.queue.take(holesOnly)
    if (taken === undefined) return undefined
    const step = this.#graph.processConcurrently(this.#toRaw(taken.record))
    // A failed record is never finished: its key stops, and no commit passes it.
    if (step === true || step === false) {
      this.queue.finish(taken)
      return true
    }
    return step.then(() => {
      this.queue.finish(taken)
      return true
    })
  }

  get hasHoles(): boolean {
    return this.queue.hasHoles
  }
}

/**
 * Key-ordered mode runs records of different keys of a partition at once. That is safe for stateless processing
 * only: a store is flushed at commit on a record boundary and may be read and written across keys by any processor,
 * and windowed and other time-based operators (all of which keep stores) depend on stream time, which records of
 * other keys move. Throws a ConfigError naming the first processor with a store. (Stream-time punctuators, which
 * a processor may schedule in init(), are refused when scheduled: TaskProcessorGraph.schedule.)
 */
export function checkKeyOrderedTopology(plan: TopologyPlan): void {
  for (const subtopology of plan.subtopologies) {
    if (subtopology.stores.length === 0) continue
    const node = subtopology.nodes.find((n) => n.kind === 'processor' && n.stores.length > 0)
    const user = node?.kind === 'processor' ? `processor ${node.name}` : `sub-topology ${subtopology.id}`
    const stores = node?.kind === 'processor' ? node.stores : subtopology.stores
    throw new ConfigError(
      'processingOrder',
      `key-ordered concurrency (processingOrder 'key' with maxConcurrencyPerTask > 1) runs stateless topologies ` +
        `only, but ${user} of sub-topology ${subtopology.id} uses state store ${stores.join(', ')}: records of ` +
        'other keys would run between its reads and writes, and windowed or time-based results would depend on ' +
        "their order. Keep processingOrder 'partition' (one record at a time per task) for this topology"
    )
  }
}

/** Records of one task in flight at most, as configured: 1 unless key-ordered mode is on (then checked: stateless). */
export function keyOrderedConcurrency(
  config: Pick<StreamsConfig, 'processingOrder' | 'maxConcurrencyPerTask'>,
  plan: TopologyPlan
): number {
  if (config.processingOrder !== 'key' || config.maxConcurrencyPerTask <= 1) return 1
  checkKeyOrderedTopology(plan)
  return config.maxConcurrencyPerTask
}
