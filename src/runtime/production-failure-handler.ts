/**
 * What happens to a batch the broker refused: each record goes to the production handler (fail by default), whose
 * dead-letter records are sent in its place. A refused changelog write always fails: skipping it would silently make
 * the store and its changelog disagree.
 */
import type { ErrorHandler, ProducedRecord, ProducedRecordOrigin, WarnLogger } from '../topology/index.ts'
import { type ProductionFailureHandler, productionErrorOf } from './producer-collector.ts'

export interface ProductionFailureHandlerOptions {
  /** The app's production handler; without one every refused record fails. */
  handler: ErrorHandler | undefined
  /** The app's changelog topics, by name. */
  changelogTopics: ReadonlyMap<string, unknown>
  /** Counts a record the handler skipped, with the dead-letter records sent in its place. */
  countSkip: (deadLettered: number) => void
  /** Sends a dead-letter record (through the collector, so it is part of the next commit). */
  send: (record: ProducedRecord, origin: ProducedRecordOrigin) => void
  logger: WarnLogger
}

/** The collector's failure handler: throws to fail (the error surfaces at the next flush), returns to skip. */
export function productionFailureHandler(options: ProductionFailureHandlerOptions): ProductionFailureHandler {
  const { handler, changelogTopics } = options
  return (failure) => {
    if (!handler || failure.records.some((r) => changelogTopics.has(r.topic))) {
      throw productionErrorOf(failure)
    }
    failure.origins.forEach((origin, i) => {
      const response = handler.handle({
        stage: 'production',
        error: failure.error,
        taskId: origin.taskId,
        nodeName: origin.sinkName ?? 'dead-letter',
        sourceRecord: origin.sourceRecord
      })
      if (response.action === 'fail') {
        throw productionErrorOf({ error: failure.error, records: [failure.records[i]!], origins: [origin] })
      }
      options.countSkip(response.deadLetterRecords?.length ?? 0)
      for (const record of response.deadLetterRecords ?? []) options.send(record, origin)
    })
    options.logger.warn(
      { err: failure.error, records: failure.records.length },
      'records the broker refused were skipped'
    )
  }
}
