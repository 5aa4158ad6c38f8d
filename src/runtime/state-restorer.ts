/**
 * Rebuilds the stores of newly assigned tasks from their changelogs, from the checkpointed offset to the end, before
 * the task processes anything. It runs a step at a time inside the app's loop on a reader of its own, so tasks that
 * are already running keep processing while others restore.
 */
import { setImmediate } from 'node:timers/promises'
import { type KafkaAdmin, type KafkaPartitionReader, OFFSET_EARLIEST } from '../kafka/index.ts'
import type { ChangelogPartitionToRestore, RestoreWriteThread, TaskStateManager } from '../state/index.ts'
import { topicPartitionKey } from '../topic-partition.ts'

/** Records applied between two turns of the event loop while restoring (a few milliseconds of work). */
const RESTORE_CHUNK_RECORDS = 4_000
/** Restored bytes handed to the write thread and not yet in LMDB before the restorer stops reading ahead. */
const MAX_QUEUED_WRITE_BYTES = 64 * 1024 * 1024

interface PartitionRestore {
  readonly taskId: string
  readonly manager: TaskStateManager
  readonly store: string
  readonly topic: string
  readonly partition: number
  /** Restoration of this partition is done once the reader's position reaches this offset. */
  readonly endOffset: bigint
  restored: number
}

/** Where a changelog partition's restoration starts; `from` is null when the local copy is already complete. */
export interface RestorePlanEntry {
  topic: string
  partition: number
  checkpoint: string | null
  end: string
  from: string | null
}

/** What restoration did, for progress logs and metrics. */
export interface RestoreProgress {
  taskId: string
  records: number
  bytes: number
  ms: number
}

/**
 * How far a task's restoration is, as `StreamlaneApp.onRestoreProgress` reports it: once when it starts (done 0),
 * after each batch that moved it, and when it finishes (then `recordsDone === recordsTotal`).
 */
export interface TaskRestoreProgress {
  taskId: string
  /**
   * Changelog offsets read so far over the task's changelog partitions: records read, plus the gaps compaction and
   * transaction markers leave, so it ends exactly at `recordsTotal`.
   */
  recordsDone: number
  /** Sum over the task's changelog partitions of end offset - start offset (checkpoint, or the log start). */
  recordsTotal: number
  /** Records written into the stores so far. */
  recordsRestored: number
  /** Key and value bytes of those records. */
  bytes: number
  elapsedMs: number
  /** `recordsDone` per second since the task's restoration started. */
  recordsPerSecond: number
  finished: boolean
}

/** Where one changelog partition of a restoring task starts and ends; `finished` once the reader reached `end`. */
interface PartitionSpan {
  readonly store: string
  readonly topic: string
  readonly partition: number
  readonly start: bigint
  readonly end: bigint
  finished: boolean
}

interface TaskRestore {
  readonly manager: TaskStateManager
  readonly at: number
  records: number
  bytes: number
  readonly spans: PartitionSpan[]
}

export class StateRestorer {
  readonly #reader: KafkaPartitionReader
  readonly #admin: KafkaAdmin
  readonly #partitions = new Map<string, PartitionRestore>()
  readonly #started = new Map<string, TaskRestore>()
  /** Records restored since start, over every task. */
  totalRestored = 0
  /** The same by store (Kafka Streams' restore-total is per store); a store is listed from its first restore plan. */
  readonly restoredByStore = new Map<string, number>()
  /** Called with each restoring task's progress: at its start, after each batch that moved it, when it finishes. */
  onProgress: ((progress: TaskRestoreProgress) => void) | undefined

  /** Where persistent stores' restored batches are written (active tasks' state managers get it too). */
  readonly writes: RestoreWriteThread | undefined

  constructor(reader: KafkaPartitionReader, admin: KafkaAdmin, writes?: RestoreWriteThread) {
    this.#reader = reader
    this.#admin = admin
    this.writes = writes
  }

  /** Stops the write thread; the tasks' state managers waited for their batches when they closed. */
  async close(): Promise<void> {
    await this.writes?.close()
  }

  get restoringTasks(): number {
    return this.#started.size
  }

  /** Changelog records the restoring tasks still have to read (`recordsTotal - recordsDone` summed). */
  get remainingRecords(): number {
    let remaining = 0
    for (const [taskId, task] of this.#started) {
      const { recordsTotal, recordsDone } = this.#progressOf(taskId, task, false)
      remaining += recordsTotal - recordsDone
    }
    return remaining
  }

  /** `remainingRecords` by store, for every store with a partition still restoring. */
  remainingByStore(): Map<string, number> {
    const remaining = new Map<string, number>()
    for (const task of this.#started.values()) {
      for (const span of task.spans) {
        const left = Number(spanLength(span) - this.#spanDone(span))
        remaining.set(span.store, (remaining.get(span.store) ?? 0) + left)
      }
    }
    return remaining
  }

  /**
   * Starts restoring a task's changelog partitions. Returns true when there is nothing to restore (empty changelog,
   * or the local checkpoint is already at its end), so the task can run at once.
   */
  async add(
    taskId: string,
    manager: TaskStateManager,
    partitions: readonly ChangelogPartitionToRestore[]
  ): Promise<boolean> {
    const plan = await this.#plan(taskId, manager, partitions)
    this.onPlan?.(taskId, plan)
    return plan.every((p) => p.from === null)
  }

  /** Called with each task's restore plan: per changelog partition, its checkpoint, its end, where reading starts. */
  onPlan: ((taskId: string, plan: RestorePlanEntry[]) => void) | undefined

  async #plan(
    taskId: string,
    manager: TaskStateManager,
    partitions: readonly ChangelogPartitionToRestore[]
  ): Promise<RestorePlanEntry[]> {
    if (partitions.length === 0) return []
    const ends = await this.#admin.listOffsets(
      partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })),
      'latest'
    )
    const toRead = []
    const plan: RestorePlanEntry[] = []
    for (const { store, topic, partition, checkpointOffset } of partitions) {
      const endOffset = ends.get(topic)?.get(partition) ?? 0n
      const upToDate = endOffset === 0n || (checkpointOffset !== null && checkpointOffset >= endOffset)
      plan.push({
        topic,
        partition,
        checkpoint: checkpointOffset === null ? null : String(checkpointOffset),
        end: String(endOffset),
        from: upToDate ? null : String(checkpointOffset ?? 0n)
      })
      if (upToDate) continue
      if (!this.restoredByStore.has(store)) this.restoredByStore.set(store, 0)
      this.#partitions.set(topicPartitionKey(topic, partition), {
        taskId,
        manager,
        store,
        topic,
        partition,
        endOffset,
        restored: 0
      })
      toRead.push({ topic, partition, offset: checkpointOffset ?? OFFSET_EARLIEST })
    }
    if (toRead.length > 0) {
      const task: TaskRestore = { manager, at: Date.now(), records: 0, bytes: 0, spans: [] }
      this.#started.set(taskId, task)
      await this.#reader.assign(toRead)
      // The reader resolved "earliest" to the log start offset: that, not 0, is where a partition without checkpoint
      // starts, so the total is what will really be read.
      for (const { topic, partition, offset } of toRead) {
        const start = this.#reader.position(topic, partition) ?? (offset < 0n ? 0n : offset)
        const { store, endOffset: end } = this.#partitions.get(topicPartitionKey(topic, partition))!
        task.spans.push({ store, topic, partition, start, end, finished: false })
      }
      this.onProgress?.(this.#progressOf(taskId, task, false))
    }
    return plan
  }

  /** Stops restoring a task that was revoked before it finished. */
  remove(taskId: string): void {
    const gone = [...this.#partitions.values()].filter((p) => p.taskId === taskId)
    for (const p of gone) this.#partitions.delete(topicPartitionKey(p.topic, p.partition))
    if (gone.length > 0) this.#reader.unassign(gone.map(({ topic, partition }) => ({ topic, partition })))
    this.#started.delete(taskId)
  }

  /**
   * Reads one batch of changelog records into the stores, in chunks that let the event loop run in between; returns
   * the tasks whose restoration completed (every batch of theirs in their stores).
   */
  async step(maxWaitMs: number): Promise<RestoreProgress[]> {
    if (this.#partitions.size === 0) return []
    // Read ahead of the write thread by at most this much: a slow disk must not pile fetches up in memory.
    await this.writes?.room(MAX_QUEUED_WRITE_BYTES)
    const records = await this.#reader.poll(maxWaitMs)
    const moved = new Set<string>()
    let batch: { key: Buffer; value: Buffer | null; timestamp: number; offset: bigint }[] = []
    let current: PartitionRestore | undefined
    let started: TaskRestore | undefined
    let currentTopic = ''
    let currentPartition = -1
    const apply = () => {
      if (current && batch.length > 0) {
        current.manager.restore(current.topic, batch)
        current.restored += batch.length
        this.totalRestored += batch.length
        this.restoredByStore.set(current.store, (this.restoredByStore.get(current.store) ?? 0) + batch.length)
      }
      batch = []
    }
    let sinceYield = 0
    for (const record of records) {
      if (sinceYield >= RESTORE_CHUNK_RECORDS) {
        // A batch of 50,000 records takes most of a second to apply: probes (/ready, /healthz) and /metrics must
        // be answered meanwhile (Kubernetes' probe timeout is 1 s), so the event loop gets a turn between chunks.
        apply()
        await setImmediate()
        sinceYield = 0
      }
      sinceYield++
      // A fetch hands out each partition's records together: look the partition up when it changes, not per record.
      if (record.partition !== currentPartition || record.topic !== currentTopic) {
        const target = this.#partitions.get(topicPartitionKey(record.topic, record.partition))
        currentTopic = record.topic
        currentPartition = record.partition
        if (target !== current) {
          apply()
          current = target
          started = target ? this.#started.get(target.taskId) : undefined
          if (target) moved.add(target.taskId)
        }
      }
      if (!current || record.key === null) continue
      batch.push({ key: record.key, value: record.value, timestamp: record.timestamp, offset: record.offset })
      if (started) {
        started.records++
        started.bytes += record.key.length + (record.value?.length ?? 0)
      }
    }
    apply()
    const done = await this.#finished()
    if (this.onProgress) {
      for (const taskId of moved) {
        const task = this.#started.get(taskId)
        if (task) this.onProgress(this.#progressOf(taskId, task, false))
      }
    }
    return done
  }

  async #finished(): Promise<RestoreProgress[]> {
    for (const p of [...this.#partitions.values()]) {
      const position = this.#reader.position(p.topic, p.partition)
      if (position !== undefined && position >= p.endOffset) {
        this.#partitions.delete(topicPartitionKey(p.topic, p.partition))
        this.#reader.unassign([{ topic: p.topic, partition: p.partition }])
        const span = this.#started.get(p.taskId)?.spans.find((s) => s.topic === p.topic && s.partition === p.partition)
        if (span) span.finished = true
      }
    }
    const done: RestoreProgress[] = []
    for (const [taskId, started] of [...this.#started]) {
      if ([...this.#partitions.values()].some((p) => p.taskId === taskId)) continue
      // Read to the end; done once the write thread has put every batch into the stores.
      await started.manager.restored()
      // Revoked (or restarted) while its last batches were written: not this restoration's to report.
      if (this.#started.get(taskId) !== started) continue
      this.#started.delete(taskId)
      done.push({ taskId, records: started.records, bytes: started.bytes, ms: Date.now() - started.at })
      this.onProgress?.(this.#progressOf(taskId, started, true))
    }
    return done
  }

  /** A finished partition counts whole; an unfinished one up to the reader's position (next offset to hand out). */
  #progressOf(taskId: string, task: TaskRestore, finished: boolean): TaskRestoreProgress {
    let total = 0n
    let done = 0n
    for (const span of task.spans) {
      total += spanLength(span)
      done += this.#spanDone(span)
    }
    const elapsedMs = Date.now() - task.at
    return {
      taskId,
      recordsDone: Number(done),
      recordsTotal: Number(total),
      recordsRestored: task.records,
      bytes: task.bytes,
      elapsedMs,
      recordsPerSecond: Math.round(Number(done) / (Math.max(elapsedMs, 1) / 1000)),
      finished
    }
  }

  /** Offsets of the span read: all of a finished one, else up to the reader's position (next offset to hand out). */
  #spanDone(span: PartitionSpan): bigint {
    const length = spanLength(span)
    if (span.finished) return length
    const read = (this.#reader.position(span.topic, span.partition) ?? span.start) - span.start
    if (read < 0n) return 0n
    if (read > length) return length
    return read
  }
}

function spanLength(span: PartitionSpan): bigint {
  return span.end > span.start ? span.end - span.start : 0n
}
