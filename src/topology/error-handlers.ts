import type { TaskId } from '../task-id.ts'
import type { RawRecord } from './record.ts'
import type { ProducedRecord } from './record-collector.ts'

/** Where in a task a record failed. */
export type ErrorStage = 'deserialization' | 'processing' | 'production'

export interface ErrorContext {
  readonly stage: ErrorStage
  readonly error: Error
  readonly taskId: TaskId
  /** The processor or sink that failed (the source node for deserialization). */
  readonly nodeName: string
  /** The record as consumed, bytes untouched; null when a punctuator failed. */
  readonly sourceRecord: RawRecord | null
  /**
   * The running app's logger: a handler given none of its own logs through it, so its lines carry the app's fields
   * like every other line of the app.
   */
  readonly logger?: WarnLogger
}

/** Fail the task, or skip the record (after sending the given dead-letter records). */
export type ErrorResponse =
  | { readonly action: 'fail' }
  | { readonly action: 'continue'; readonly deadLetterRecords?: readonly ProducedRecord[] }

export interface ErrorHandler {
  readonly name: string
  /** The topic the handler writes records to, if any: `streamlane topics create` creates it with the others. */
  readonly deadLetterTopic?: string
  handle(context: ErrorContext): ErrorResponse
}

/** One handler per stage; each defaults to `fail`. */
export interface ErrorHandlerConfig {
  readonly deserialization?: ErrorHandler
  readonly processing?: ErrorHandler
  readonly production?: ErrorHandler
}

/** The subset of a pino logger the handlers use, so any structured logger fits. */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void
}

/** Writes one JSON line to stderr in the app logger's shape (pino's: numeric level, time, pid), when none is given. */
export const stderrLogger: WarnLogger = {
  warn(fields, message) {
    process.stderr.write(
      `${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, ...fields, msg: message })}\n`
    )
  }
}

/** Header names of dead-letter records. */
export const ERROR_HEADERS = {
  class: 'streamlane.error.class',
  message: 'streamlane.error.message',
  stage: 'streamlane.error.stage',
  topic: 'streamlane.error.topic',
  partition: 'streamlane.error.partition',
  offset: 'streamlane.error.offset',
  task: 'streamlane.error.task',
  node: 'streamlane.error.node'
} as const

/** Stop the task; the error names topic, partition and offset. The default for every stage. */
export function fail(): ErrorHandler {
  return { name: 'fail', handle: () => ({ action: 'fail' }) }
}

export interface LogAndContinueHandler extends ErrorHandler {
  /** Records skipped by this handler so far. */
  readonly skipped: number
}

/** Log a warning and skip the record. Tasks count skips per stage too, for metrics. */
export function logAndContinue(options: { logger?: WarnLogger } = {}): LogAndContinueHandler {
  let skipped = 0
  return {
    name: 'logAndContinue',
    get skipped() {
      return skipped
    },
    handle(context) {
      skipped++
      ;(options.logger ?? context.logger ?? stderrLogger).warn(
        describeFailure(context),
        `skipping a record after a ${context.stage} error: ${context.error.message}`
      )
      return { action: 'continue' }
    }
  }
}

/**
 * Send the record, bytes and headers as consumed, to `topic` with the error in `streamlane.error.*` headers, then
 * skip it. A punctuator failure has no record to keep: it is logged and skipped.
 */
export function deadLetter(topic: string, options: { logger?: WarnLogger } = {}): ErrorHandler {
  return {
    name: `deadLetter(${topic})`,
    deadLetterTopic: topic,
    handle(context) {
      if (context.sourceRecord === null) {
        ;(options.logger ?? context.logger ?? stderrLogger).warn(
          describeFailure(context),
          `a punctuator failed and has no record for dead-letter topic ${topic}; skipping`
        )
        return { action: 'continue' }
      }
      return { action: 'continue', deadLetterRecords: [deadLetterRecord(topic, context.sourceRecord, context)] }
    }
  }
}

/** The dead-letter record for a failure: the original bytes plus error headers. */
export function deadLetterRecord(topic: string, source: RawRecord, context: ErrorContext): ProducedRecord {
  const headers = source.headers
    .set(ERROR_HEADERS.class, context.error.name)
    .set(ERROR_HEADERS.message, context.error.message)
    .set(ERROR_HEADERS.stage, context.stage)
    .set(ERROR_HEADERS.topic, source.topic)
    .set(ERROR_HEADERS.partition, String(source.partition))
    .set(ERROR_HEADERS.offset, String(source.offset))
    .set(ERROR_HEADERS.task, context.taskId.toString())
    .set(ERROR_HEADERS.node, context.nodeName)
  return { topic, key: source.key, value: source.value, headers, timestamp: source.timestamp }
}

function describeFailure(context: ErrorContext): Record<string, unknown> {
  return {
    stage: context.stage,
    task: context.taskId.toString(),
    node: context.nodeName,
    topic: context.sourceRecord?.topic,
    partition: context.sourceRecord?.partition,
    offset: context.sourceRecord?.offset,
    error: {
      class: context.error.name,
      message: context.error.message,
      code: (context.error as { code?: unknown }).code
    }
  }
}

/** The built-in handlers: `ErrorHandlers.deadLetter('orders-dlq')`. */
export const ErrorHandlers = { fail, logAndContinue, deadLetter } as const
