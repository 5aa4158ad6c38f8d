/**
 * Logs restoration progress at info, at most once per interval per task, so a long restore shows it is moving
 * (done / total, rate, time left) without a line per batch. Start and end have log lines of their own ("restore plan",
 * "task restored").
 */
/** What the log reads of a task's restoration progress (the runtime's `TaskRestoreProgress` carries these and more). */
export interface RestoreProgressReport {
  taskId: string
  recordsDone: number
  recordsTotal: number
  bytes: number
  recordsPerSecond: number
  finished: boolean
}

export interface InfoLogger {
  info(fields: Record<string, unknown>, message: string): void
}

export function restoreProgressLogger(
  logger: InfoLogger,
  { intervalMs = 5_000, now = Date.now }: { intervalMs?: number; now?: () => number } = {}
): (progress: RestoreProgressReport) => void {
  const lastLogged = new Map<string, number>()
  return (progress) => {
    const { taskId } = progress
    if (progress.finished) {
      lastLogged.delete(taskId)
      return
    }
    const at = now()
    const last = lastLogged.get(taskId)
    // The first report of a task (restoration started) only starts its clock.
    if (last === undefined) {
      lastLogged.set(taskId, at)
      return
    }
    if (at - last < intervalMs) return
    lastLogged.set(taskId, at)
    const remaining = progress.recordsTotal - progress.recordsDone
    logger.info(
      {
        task: taskId,
        recordsDone: progress.recordsDone,
        recordsTotal: progress.recordsTotal,
        bytes: progress.bytes,
        recordsPerSecond: progress.recordsPerSecond,
        secondsLeft: progress.recordsPerSecond > 0 ? Math.ceil(remaining / progress.recordsPerSecond) : null
      },
      'restoring'
    )
  }
}
