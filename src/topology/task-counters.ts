import type { DroppedRecordReason } from './dropped-records.ts'
import type { ErrorStage } from './error-handlers.ts'

/** What a task has done, for metrics: the runtime exports these as Prometheus counters. */
export interface TaskCounters {
  processed: number
  punctuations: number
  deadLettered: number
  /** Records an error handler chose to skip, by stage. */
  readonly skipped: Record<ErrorStage, number>
  /** Records processors dropped on purpose, by reason (see `DROPPED_RECORDS_METRICS`). */
  readonly dropped: Record<DroppedRecordReason, number>
}

export function newTaskCounters(): TaskCounters {
  return {
    processed: 0,
    punctuations: 0,
    deadLettered: 0,
    skipped: { deserialization: 0, processing: 0, production: 0 },
    dropped: { late: 0, 'null-key': 0, 'null-value': 0 }
  }
}
