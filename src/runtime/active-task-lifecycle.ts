/**
 * How active tasks come and go on this instance, the I/O around the TaskManager (which has none): a task for a newly
 * owned partition starts at the group's committed offset with its stores opened, and processes only once its stores
 * have restored; a task whose uncommitted work was thrown away starts again from the committed offsets; and a task
 * closes cleanly (handed over after a commit) or without committing (lost, fenced, failed).
 */
import type { GroupMember } from '../kafka/group/index.ts'
import { type KafkaPartitionReader, OFFSET_EARLIEST, type TopicPartition } from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import { Headers } from '../serde/index.ts'
import {
  type BytesBackend,
  type ChangelogSink,
  type StateDirectory,
  type StoreMetering,
  TaskStateManager
} from '../state/index.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import { TaskId } from '../topology/index.ts'
import type { ProducerRecordCollector } from './producer-collector.ts'
import type { StateRestorer } from './state-restorer.ts'
import type { TaskManager } from './task-manager.ts'

export interface TaskLifecycleOptions {
  applicationId: string
  cacheMaxBytes: number
  tasks: TaskManager
  /** Reads the tasks' input partitions. */
  reader: Pick<KafkaPartitionReader, 'assign' | 'unassign' | 'assignment' | 'pause' | 'resume' | 'drainedPosition'>
  /** Where a new task's committed offsets come from. */
  group: Pick<GroupMember, 'fetchOffsets'>
  /** Stores send their changelog records through it, with the tasks' outputs (and in the same transaction). */
  collector: Pick<ProducerRecordCollector, 'send'>
  /** Sub-topologies with stores; their tasks open state and restore. */
  statefulSubtopologies: ReadonlySet<number>
  /** Present when the app has stateful sub-topologies. */
  stateDir: StateDirectory | undefined
  restorer: StateRestorer | undefined
  /** In-memory stores a standby of the task handed over on its promotion here (see StandbyLifecycle). */
  memoryStoresOf?: (taskId: string) => ReadonlyMap<string, BytesBackend> | undefined
  logger: Logger
  /** Times the active tasks' store operations (sampled) for the metrics. */
  storeMetering?: StoreMetering | undefined
}

export class TaskLifecycle {
  readonly #o: TaskLifecycleOptions

  constructor(options: TaskLifecycleOptions) {
    this.#o = options
  }

  /**
   * Creates the tasks of newly owned partitions, positions the reader at the group's committed offsets (earliest
   * without one), and starts restoring their stores. Returns the ids of the tasks created.
   */
  async start(added: TopicPartition[]): Promise<string[]> {
    const { tasks, reader } = this.#o
    const newTasks = [...tasks.groupByTask(added)].filter(([id]) => !tasks.has(id))
    if (newTasks.length === 0) return []
    const byTopic = new Map<string, number[]>()
    for (const { topic, partition } of newTasks.flatMap(([, partitions]) => partitions)) {
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition])
    }
    const committed = await this.#o.group.fetchOffsets(
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
    )
    const committedByPartition = new Map(committed.map((c) => [topicPartitionKey(c.topic, c.partition), c.offset]))
    const metadataByPartition = new Map(committed.map((c) => [topicPartitionKey(c.topic, c.partition), c.metadata]))
    const toRead = []
    for (const [id, partitions] of newTasks) {
      const offsets = new Map<string, bigint>()
      for (const { topic, partition } of partitions) {
        const offset = committedByPartition.get(topicPartitionKey(topic, partition)) ?? -1n
        if (offset >= 0n) offsets.set(topicPartitionKey(topic, partition), offset)
        toRead.push({ topic, partition, offset: offset >= 0n ? offset : OFFSET_EARLIEST })
      }
      const taskId = TaskId.parse(id)
      const state = this.#o.statefulSubtopologies.has(taskId.subtopology) ? await this.#openState(taskId) : undefined
      const graph = tasks.createTask(taskId, partitions, offsets, state?.manager, metadataByPartition)
      if (state) state.bind(graph)
    }
    await reader.assign(toRead)
    for (const [id] of newTasks) {
      const manager = tasks.isRestoring(id) ? tasks.stateOf(id) : undefined
      if (!manager) continue
      if (await this.#o.restorer!.add(id, manager, manager.changelogPartitions())) tasks.markRestored(id)
      else reader.pause([...tasks.partitionsOf(id)])
    }
    return newTasks.map(([id]) => id)
  }

  /** The reader's position of an input partition when it holds no fetched records of it (see drainedPosition). */
  drainedPosition(topic: string, partition: number): bigint | undefined {
    return this.#o.reader.drainedPosition(topic, partition)
  }

  /** Restores one batch of changelog records; tasks whose stores caught up start processing. */
  async restoreStep(): Promise<void> {
    const { tasks, reader } = this.#o
    for (const done of await this.#o.restorer!.step(20)) {
      tasks.markRestored(done.taskId)
      reader.resume([...tasks.partitionsOf(done.taskId)])
      const seconds = Math.max(done.ms, 1) / 1000
      this.#o.logger.info(
        {
          task: done.taskId,
          records: done.records,
          bytes: done.bytes,
          ms: done.ms,
          recordsPerSecond: Math.round(done.records / seconds)
        },
        'task restored'
      )
    }
  }

  /**
   * Closes revoked tasks; their progress is the caller's to commit first. `clean: false` (tasks lost) closes their
   * stores without writing a checkpoint. Their partitions stay assigned until `stopReading`.
   */
  async close(ids: Iterable<string>, { clean }: { clean: boolean }): Promise<void> {
    for (const id of ids) {
      this.#o.restorer?.remove(id)
      await this.#o.tasks.closeTask(id, clean)
    }
  }

  /** Stops fetching partitions this instance no longer owns. */
  stopReading(partitions: TopicPartition[]): void {
    this.#o.reader.unassign(partitions)
  }

  /**
   * Closes every task without committing (stores drop their uncommitted writes) and stops reading every partition,
   * also one a task closed earlier left assigned (its callback cut short by a fencing): the tasks that come back
   * must start at their committed offsets, not at an old position, paused by an old back-pressure.
   */
  async closeAllUncommitted(): Promise<void> {
    const { tasks, reader } = this.#o
    for (const id of tasks.taskIds) {
      const partitions = [...tasks.partitionsOf(id)]
      this.#o.restorer?.remove(id)
      await tasks.closeTask(id, false)
      reader.unassign(partitions)
    }
    reader.unassign(reader.assignment())
  }

  /**
   * Closes every task without committing, and starts again, from the group's committed offsets, the tasks `keep`
   * selects.
   */
  async restartFromCommitted(keep: (taskId: string) => boolean): Promise<void> {
    const { tasks } = this.#o
    const restart = tasks.taskIds.filter(keep).flatMap((id) => [...tasks.partitionsOf(id)])
    await this.closeAllUncommitted()
    await this.start(restart)
  }

  /**
   * Closes tasks without committing or writing checkpoints, after the app failed. Never throws: it runs on the way
   * out, and one task that does not close must not keep the others open.
   */
  async closeAfterFailure(ids: readonly string[]): Promise<void> {
    const { tasks } = this.#o
    for (const id of ids) {
      const partitions = [...tasks.partitionsOf(id)]
      this.#o.restorer?.remove(id)
      try {
        await tasks.closeTask(id, false)
      } catch (error) {
        this.#o.logger.warn({ err: error, task: id }, 'task did not close cleanly')
      }
      this.#o.reader.unassign(partitions)
    }
  }

  /** Locks the task's state directory and opens its state manager; changelog writes go through the collector. */
  async #openState(
    taskId: TaskId
  ): Promise<{ manager: TaskStateManager; bind: (graph: { currentTimestampMs: number }) => void }> {
    const lease = await this.#o.stateDir!.prepareTask(taskId.toString())
    const collector = this.#o.collector
    const sink: ChangelogSink = {
      send(topic, partition, key, value, timestamp) {
        collector.send(
          { topic, partition, key, value, headers: Headers.empty, timestamp },
          { taskId, sinkName: null, sourceRecord: null }
        )
      }
    }
    let graph: { currentTimestampMs: number } | undefined
    const manager = new TaskStateManager({
      applicationId: this.#o.applicationId,
      taskId,
      lease,
      changelogSink: sink,
      cacheMaxBytes: this.#o.cacheMaxBytes,
      logger: this.#o.logger,
      metering: this.#o.storeMetering ?? null,
      memoryBackends: this.#o.memoryStoresOf?.(taskId.toString()),
      ...(this.#o.restorer?.writes ? { restoreWrites: this.#o.restorer.writes } : {}),
      // The timestamp the extractor gave the record being processed (stream time inside punctuators).
      currentTimestamp: () => graph?.currentTimestampMs ?? Date.now()
    })
    return {
      manager,
      bind: (g) => {
        graph = g
      }
    }
  }
}
