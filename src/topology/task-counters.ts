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

/** Adds `from` into `into`, for totals that outlive the tasks they came from. */
export function addTaskCounters(into: TaskCounters, from: TaskCounters): TaskCounters {
  into.processed += from.processed
  into.punctuations += from.punctuations
  into.deadLettered += from.deadLettered
  for (const stage of Object.keys(into.skipped) as (keyof TaskCounters['skipped'])[])
    into.skipped[stage] += from.skipped[stage]
  for (const reason of Object.keys(into.dropped) as (keyof TaskCounters['dropped'])[])
    into.dropped[reason] += from.dropped[reason]
  return into
}
