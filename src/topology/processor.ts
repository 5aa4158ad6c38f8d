import type { TaskId } from '../task-id.ts'
import type { DroppedRecordReason } from './dropped-records.ts'
import type { RecordMetadata, StreamRecord } from './record.ts'
import type { StateStore } from './state-store.ts'

/**
 * The Processor API. A processor receives records one at a time and forwards any number of records to its children.
 * `process` may return a promise (to call a service, say): the task then waits for it before the next record, so
 * order and at-least-once hold for asynchronous work too; synchronous processors pay nothing for this.
 */
export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  init?(context: ProcessorContext<KOut, VOut>): void
  process(record: StreamRecord<KIn, VIn>): void | Promise<void>
  close?(): void | Promise<void>
}

/** Makes a new processor for each task: processors hold per-task state and must not be shared. */
export type ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> = () => Processor<KIn, VIn, KOut, VOut>

/**
 * Punctuation on stream time advances only with the timestamps of processed records (it stalls when input stops);
 * on wall-clock time it follows the system clock (or the test driver's clock).
 */
export type PunctuationType = 'stream-time' | 'wall-clock'

/** Called with the stream time or wall-clock time at which it fires. */
export type Punctuator = (timestampMs: number) => void | Promise<void>

export interface Cancellable {
  cancel(): void
}

/** What a processor can do besides receiving records: forward, schedule, read metadata, reach its stores. */
export interface ProcessorContext<KForward = unknown, VForward = unknown> {
  readonly applicationId: string
  readonly taskId: TaskId
  /** The name of the processor this context belongs to. */
  readonly processorName: string

  /**
   * Sends a record to every child, or only to the child named `childName`. Returns a promise when a child is
   * asynchronous; the task waits for it in any case before it processes the next record.
   */
  forward(record: StreamRecord<KForward, VForward>, childName?: string): void | Promise<void>

  /**
   * Calls `punctuator` every `intervalMs`. Stream-time schedules are aligned to multiples of the interval and fire
   * first with the first record; wall-clock schedules fire first one interval from now. A punctuator fires at most
   * once per advance, however many intervals the advance skipped.
   */
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable

  /** Topic, partition and offset of the record being processed; `null` inside a punctuator. */
  recordMetadata(): RecordMetadata | null

  /** A store connected to this processor (`Topology.addStateStore(builder, processorName)`). */
  getStateStore<S extends StateStore = StateStore>(name: string): S

  /** The largest record timestamp this task has processed, or -1 before its first record. */
  currentStreamTimeMs(): number

  currentSystemTimeMs(): number

  /** Asks the runtime to commit this task soon, rather than at the next commit interval. */
  requestCommit(): void

  /**
   * Says that this processor dropped the current record on purpose (a late record, a null key): the task counts it in
   * `counters.dropped[reason]` and logs a warning with `message`, the processor, task, topic, partition and offset.
   */
  recordDropped(reason: DroppedRecordReason, message: string): void
}
