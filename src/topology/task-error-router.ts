import { StreamlaneError } from '../errors.ts'
import type { TaskId } from '../task-id.ts'
import { type ErrorHandler, type ErrorHandlerConfig, type ErrorStage, fail, type WarnLogger } from './error-handlers.ts'
import type { RawRecord } from './record.ts'
import type { RecordCollector, TaskActivity } from './record-collector.ts'
import type { TaskCounters } from './task-counters.ts'
import { messageOf, ProcessingError, ProductionError } from './topology-errors.ts'

export interface FailureDetails {
  readonly stage: ErrorStage
  /** The node that failed (a source for deserialization). */
  readonly nodeName: string
  readonly sourceRecord: RawRecord | null
  /** What the task was doing (tells a punctuator from a store flush when there is no source record). */
  readonly activity?: TaskActivity | undefined
  /** The output topic, for production failures. */
  readonly topic?: string | null
}

/**
 * Applies a task's error handlers. A failure is handled once, where it happened: when the handler chooses to fail,
 * the error thrown is marked fatal so that the nodes it passes through on its way up do not handle it again.
 */
export class TaskErrorRouter {
  readonly #taskId: TaskId
  readonly #collector: RecordCollector
  readonly #counters: TaskCounters
  readonly #handlers: Record<ErrorStage, ErrorHandler>
  readonly #fatalErrors = new WeakSet<object>()
  readonly #logger: WarnLogger | undefined

  constructor(
    taskId: TaskId,
    collector: RecordCollector,
    counters: TaskCounters,
    configured: ErrorHandlerConfig = {},
    logger?: WarnLogger
  ) {
    this.#taskId = taskId
    this.#logger = logger
    this.#collector = collector
    this.#counters = counters
    this.#handlers = {
      deserialization: configured.deserialization ?? fail(),
      processing: configured.processing ?? fail(),
      production: configured.production ?? fail()
    }
  }

  /** Marks an error that must stop the task without passing through a handler. */
  fatal(error: unknown): Error {
    const failure = error instanceof Error ? error : new Error(String(error))
    this.#fatalErrors.add(failure)
    return failure
  }

  /** Returns when the handler chose to skip the record (after sending its dead-letter records); throws otherwise. */
  handle(failure: FailureDetails, error: unknown): void {
    if (typeof error === 'object' && error !== null && this.#fatalErrors.has(error)) throw error
    const { stage, nodeName, sourceRecord, activity } = failure
    const cause = error instanceof Error ? error : new Error(String(error))
    const handler = this.#handlers[stage]
    let response: ReturnType<ErrorHandler['handle']>
    try {
      const context = { stage, error: cause, taskId: this.#taskId, nodeName, sourceRecord }
      response = handler.handle(this.#logger ? { ...context, logger: this.#logger } : context)
    } catch (handlerError) {
      throw this.fatal(
        new StreamlaneError(
          'STREAMLANE_ERROR_HANDLER_FAILED',
          `the ${stage} error handler ${handler.name} threw: ${messageOf(handlerError)}`,
          {
            cause: handlerError
          }
        )
      )
    }
    if (response.action === 'continue') {
      this.#counters.skipped[stage]++
      for (const record of response.deadLetterRecords ?? []) {
        try {
          this.#collector.send(record, { taskId: this.#taskId, sinkName: null, sourceRecord })
        } catch (sendError) {
          throw this.fatal(sendError)
        }
        this.#counters.deadLettered++
      }
      return
    }
    const taskId = this.#taskId
    if (stage === 'processing')
      throw this.fatal(new ProcessingError({ taskId, processorName: nodeName, sourceRecord, activity }, cause))
    if (stage === 'production') {
      throw this.fatal(
        new ProductionError({ taskId, sinkName: nodeName, topic: failure.topic ?? null, sourceRecord, activity }, cause)
      )
    }
    // Deserialization errors already name topic, partition and offset.
    throw this.fatal(cause)
  }
}
