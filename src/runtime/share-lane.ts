import type { ShareRecord } from '../kafka/index.ts'
import { TaskId } from '../task-id.ts'
import {
  type ErrorHandlerConfig,
  type ProducedRecord,
  type RecordCollector,
  TaskProcessorGraph,
  type TopologyPlan,
  type WarnLogger
} from '../topology/index.ts'
import { toRawRecord } from './task-manager.ts'

/**
 * One processing slot of a share-group app: runs one record at a time through the topology's only sub-topology, on
 * the same executor as the rest of the runtime (so serdes, processors, sinks and error handlers behave the same), and
 * hands back what the record produced instead of sending it, so the app can acknowledge the record only after its
 * outputs are written. A share group mixes partitions freely: the lane keeps one executor per partition (task
 * `0_<partition>`), created when a record of that partition first comes. An executor whose record failed is dropped
 * (a failed task stays failed) and made again for the next record.
 */
export class ShareLane {
  readonly #plan: TopologyPlan
  readonly #errorHandlers: ErrorHandlerConfig | undefined
  readonly #logger: WarnLogger
  readonly #graphs = new Map<number, TaskProcessorGraph>()
  #outputs: ProducedRecord[] = []

  constructor(plan: TopologyPlan, errorHandlers: ErrorHandlerConfig | undefined, logger: WarnLogger) {
    this.#plan = plan
    this.#errorHandlers = errorHandlers
    this.#logger = logger
  }

  /** The records `record` produced (sinks and dead-letter records of a skipping handler); throws if it failed. */
  async process(record: ShareRecord): Promise<ProducedRecord[]> {
    const graph = this.#graph(record.partition)
    this.#outputs = []
    try {
      graph.addRecords([toRawRecord(record)])
      await graph.processNext()
      return this.#outputs
    } catch (error) {
      this.#graphs.delete(record.partition)
      await Promise.resolve(graph.close()).catch(() => {})
      throw error
    } finally {
      this.#outputs = []
    }
  }

  async close(): Promise<void> {
    const graphs = [...this.#graphs.values()]
    this.#graphs.clear()
    await Promise.allSettled(graphs.map((g) => g.close()))
  }

  #graph(partition: number): TaskProcessorGraph {
    let graph = this.#graphs.get(partition)
    if (graph) return graph
    const collector: RecordCollector = {
      send: (produced) => void this.#outputs.push(produced),
      partitionCount: () => undefined
    }
    graph = new TaskProcessorGraph({
      plan: this.#plan,
      taskId: new TaskId(0, partition),
      collector,
      logger: this.#logger,
      ...(this.#errorHandlers ? { errorHandlers: this.#errorHandlers } : {})
    })
    graph.init()
    this.#graphs.set(partition, graph)
    return graph
  }
}
