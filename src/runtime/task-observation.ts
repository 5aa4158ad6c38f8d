/**
 * What metrics and the status page read about the active tasks of one instance: lag per input partition, store
 * sizes and cache reads, a summary per task. Read on demand (a scrape, a page refresh), never on the hot path.
 */
import type { PartitionLag, StoreStats } from '../observe/index.ts'
import { topicPartitionKey } from '../topic-partition.ts'
import type { TaskManager } from './task-manager.ts'

/** The reader's view of a partition (src/kafka's KafkaPartitionReader). */
export interface PartitionPositions {
  endOffset(topic: string, partition: number): bigint | undefined
  position(topic: string, partition: number): bigint | undefined
  drainedPosition(topic: string, partition: number): bigint | undefined
}

/**
 * Per input partition of every task, how far it is behind the reader's last-seen end: from the next offset the task
 * processes, or else the last commit, or else the reader's position; a partition whose records were all processed
 * counts from the reader's drained position (past transaction markers, as commits do). Partitions whose end is not
 * known yet (nothing fetched) are left out.
 */
export function inputLags(tasks: TaskManager, reader: PartitionPositions): PartitionLag[] {
  const lags: PartitionLag[] = []
  for (const task of tasks.activeTasks()) {
    const consumed = new Map(
      task.graph.consumedOffsets().map((o) => [topicPartitionKey(o.topic, o.partition), Number(o.offset)])
    )
    // Key-ordered tasks buffer outside their graph and count from their lowest unfinished record.
    const counts = task.keyOrdered?.queue.bufferedCounts() ?? task.graph.bufferedCounts()
    const buffered = new Map(counts.map((b) => [topicPartitionKey(b.topic, b.partition), b.count]))
    for (const { topic, partition } of task.partitions) {
      const end = reader.endOffset(topic, partition)
      if (end === undefined) continue
      const k = topicPartitionKey(topic, partition)
      const committed = task.committed.get(k)
      const unfinished = task.keyOrdered?.queue.committable(topic, partition)
      let next =
        consumed.get(k) ??
        (unfinished !== undefined ? Number(unfinished) : undefined) ??
        (committed !== undefined && committed >= 0n
          ? Number(committed)
          : Number(reader.position(topic, partition) ?? end))
      const drained = (buffered.get(k) ?? 0) === 0 ? reader.drainedPosition(topic, partition) : undefined
      if (drained !== undefined && Number(drained) > next) next = Number(drained)
      lags.push({ task: task.id.toString(), topic, partition, lag: Math.max(0, Number(end) - next) })
    }
  }
  return lags
}

/** Per store over the tasks (closed ones included for the cache reads, so those counters never go down). */
export function storeStats(tasks: TaskManager): StoreStats[] {
  const byStore = new Map<string, StoreStats>()
  for (const [store, reads] of tasks.retiredCacheReads)
    byStore.set(store, { store, entries: undefined, cacheHits: reads.hits, cacheMisses: reads.misses })
  for (const task of tasks.activeTasks()) {
    for (const stats of task.state?.storeStats() ?? []) {
      const total = byStore.get(stats.store) ?? { store: stats.store, entries: undefined, cacheHits: 0, cacheMisses: 0 }
      if (stats.entries !== undefined) total.entries = (total.entries ?? 0) + stats.entries
      total.cacheHits += stats.cacheHits
      total.cacheMisses += stats.cacheMisses
      byStore.set(stats.store, total)
    }
  }
  return [...byStore.values()]
}
