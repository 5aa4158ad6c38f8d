import type { TaskId } from '../task-id.ts'
import type { WarnLogger } from './error-handlers.ts'
import type { RawRecord } from './record.ts'

/**
 * Why a processor dropped a record on purpose (not an error, so no handler is involved), as Kafka Streams'
 * dropped-records metric: `late` (a window the record belongs to had closed: it is older than stream time minus
 * grace), `null-key` (an aggregation, a table or a grouping needs a key), `null-value` (a stream aggregation ignores
 * records without a value).
 */
export type DroppedRecordReason = 'late' | 'null-key' | 'null-value'

/**
 * The Prometheus series of `TaskCounters.dropped`: one counter, `streamlane_task_records_dropped_total`, labelled with
 * the reason (see docs/observability.md).
 */
export const DROPPED_RECORDS_METRICS: Readonly<Record<DroppedRecordReason, string>> = {
  late: 'streamlane_task_records_dropped_total{reason="late"}',
  'null-key': 'streamlane_task_records_dropped_total{reason="null-key"}',
  'null-value': 'streamlane_task_records_dropped_total{reason="null-value"}'
}

/** The warning for a dropped record: names the processor, the task and where the record was read. */
export function warnDroppedRecord(
  logger: WarnLogger,
  taskId: TaskId,
  nodeName: string,
  reason: DroppedRecordReason,
  current: RawRecord | null,
  message: string
): void {
  logger.warn(
    {
      task: taskId.toString(),
      node: nodeName,
      reason,
      topic: current?.topic ?? null,
      partition: current?.partition ?? null,
      offset: current?.offset ?? null
    },
    current === null
      ? `${nodeName} dropped a record: ${message}`
      : `${nodeName} dropped the record at topic ${current.topic} partition ${current.partition} offset ` +
          `${current.offset}: ${message}`
  )
}
