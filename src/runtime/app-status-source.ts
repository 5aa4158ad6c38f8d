/**
 * The running app as its status page reads it (observe's AppStatusSource): the group membership, the active and
 * standby tasks, and each task's latest restore progress, which this source keeps from the app's progress reports.
 */
import { type AppStatusSource, type TaskRestoreStatus, topologyGraph } from '../observe/index.ts'
import type { TopologyDescription } from '../topology/index.ts'
import type { RunningApp } from './running-app.ts'
import type { TaskRestoreProgress } from './state-restorer.ts'

export interface AppStatusFeed {
  source: AppStatusSource
  /** Give it every restore progress report (StreamlaneApp.onRestoreProgress). */
  onRestoreProgress(progress: TaskRestoreProgress): void
}

export function appStatusSource(options: {
  applicationId: string
  topologyHash: string
  topology: TopologyDescription
  processId: () => string
  running: () => RunningApp | undefined
}): AppStatusFeed {
  const restores = new Map<string, TaskRestoreStatus>()
  const source: AppStatusSource = {
    applicationId: options.applicationId,
    topologyHash: options.topologyHash,
    topology: options.topology.toString(),
    topologyGraph: topologyGraph(options.topology),
    processId: options.processId,
    membership: () => {
      const member = options.running()?.member
      return {
        memberId: member?.memberId || null,
        generation: member && member.generationId >= 0 ? member.generationId : null,
        rebalanceInProgress: member?.rebalanceInProgress ?? false
      }
    },
    activeTasks: () => {
      const tasks = options.running()?.tasks
      if (!tasks) return []
      return [...tasks.activeTasks()].map((task) => ({
        id: task.id.toString(),
        restoring: task.restoring,
        partitions: task.partitions,
        processed: task.graph.counters.processed
      }))
    },
    replicaTasks: () =>
      (options.running()?.replicas?.standbys.status() ?? []).map(({ taskId, kind, lag }) => ({
        id: taskId,
        kind,
        lag
      })),
    restoreProgress: (taskId) => restores.get(taskId)
  }
  return {
    source,
    onRestoreProgress({ taskId, recordsDone, recordsTotal, recordsPerSecond, finished }) {
      restores.set(taskId, { recordsDone, recordsTotal, recordsPerSecond, finished })
    }
  }
}
