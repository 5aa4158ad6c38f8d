/**
 * `GET /status` on the metrics port: where this instance's copies of tasks are and how far each has come, for a
 * person (or a script) looking at a running app. Active tasks with whether they still restore; standby and warm-up
 * tasks with their lag; and, when the group publishes endpoints (applicationServer), which instance holds the
 * active and the standby copies of which partitions, as of the last assignment.
 */
import type { AppState } from '../observe/index.ts'
import type { GroupHostMap } from '../query/index.ts'
import type { RunningApp } from './running-app.ts'

export interface TaskStatusSource {
  state: () => AppState
  processId: () => string
  running: () => RunningApp | undefined
  hostMap: () => GroupHostMap | undefined
}

export function taskStatus(source: TaskStatusSource): Record<string, unknown> {
  const running = source.running()
  const hostMap = source.hostMap()
  const hosts = (map: GroupHostMap['active'] | undefined) =>
    Object.fromEntries([...(map ?? new Map())].map(([host, partitions]) => [host, partitions]))
  return {
    state: source.state(),
    processId: source.processId(),
    generation: running?.member.generation?.generationId ?? null,
    active: (running?.tasks.taskIds ?? []).map((task) => ({ task, restoring: running!.tasks.isRestoring(task) })),
    replicas: (running?.replicas?.standbys.status() ?? []).map(({ taskId, kind, lag, applied }) => ({
      task: taskId,
      kind,
      lag: lag === undefined ? null : Number(lag),
      applied
    })),
    group: hostMap ? { active: hosts(hostMap.active), standby: hosts(hostMap.standby) } : null
  }
}
