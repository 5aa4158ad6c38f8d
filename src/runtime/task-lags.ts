/**
 * The task lags a member reports in its subscription (Kafka Streams' task offset sums, turned into lags here): for
 * every task whose state is on this instance's disk, how many changelog records the local copy is behind the end.
 * Active tasks count as caught up; standbys and warm-ups report what their reader has seen; task directories of
 * tasks this instance does not hold (kept for `stateCleanupDelayMs`) report from their checkpoint files. The leader
 * uses them to give a task to the member that restores least, and to move a task only once a warm-up caught up.
 */
import type { TaskIdText } from '../assignment/index.ts'
import type { KafkaAdmin } from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import type { ChangelogCheckpoint, StateDirectory } from '../state/index.ts'
import { TaskId, type TopologyPlan } from '../topology/index.ts'

/** The changelog partitions of a task: one per logged store of its sub-topology, at the task's partition. */
export function changelogPartitionsOf(
  plan: TopologyPlan,
  taskId: string
): { topic: string; partition: number }[] | undefined {
  let id: TaskId
  try {
    id = TaskId.parse(taskId)
  } catch {
    return undefined
  }
  const subtopology = plan.subtopologies.find((sub) => sub.id === id.subtopology)
  if (!subtopology || subtopology.stores.length === 0) return undefined
  const partitions: { topic: string; partition: number }[] = []
  for (const store of subtopology.stores) {
    const changelog = plan.changelogOf(store)
    if (changelog) partitions.push({ topic: changelog.topic, partition: id.partition })
  }
  return partitions
}

/**
 * Lag of a local copy from its checkpoints: per changelog partition, end minus checkpoint (the whole partition when
 * the checkpoint does not cover it), summed. Undefined when an end offset is unknown.
 */
export function lagFromCheckpoints(
  changelogs: readonly { topic: string; partition: number }[],
  checkpoints: readonly ChangelogCheckpoint[],
  endOffset: (topic: string, partition: number) => bigint | undefined
): bigint | undefined {
  let lag = 0n
  for (const { topic, partition } of changelogs) {
    const end = endOffset(topic, partition)
    if (end === undefined) return undefined
    const checkpoint = checkpoints.find((c) => c.topic === topic && c.partition === partition)?.offset ?? 0n
    if (end > checkpoint) lag += end - checkpoint
  }
  return lag
}

export interface LocalTaskLagsInput {
  plan: TopologyPlan
  stateDir: Pick<StateDirectory, 'listTaskDirs'>
  admin: Pick<KafkaAdmin, 'listOffsets'>
  activeTaskIds: Iterable<string>
  /** Standby and warm-up tasks held here, with their lags as their reader sees them (undefined: not known yet). */
  standbyLags: ReadonlyMap<string, bigint | undefined>
  logger: Logger
}

/** Lags of every task with local state. A failure to read end offsets leaves out the tasks that needed them. */
export async function localTaskLags(input: LocalTaskLagsInput): Promise<Map<TaskIdText, bigint>> {
  const { plan } = input
  const lags = new Map<TaskIdText, bigint>()
  for (const id of input.activeTaskIds) lags.set(id as TaskIdText, 0n)
  for (const [id, lag] of input.standbyLags) if (lag !== undefined) lags.set(id as TaskIdText, lag)
  const pending: {
    taskId: string
    changelogs: { topic: string; partition: number }[]
    checkpoints: ChangelogCheckpoint[]
  }[] = []
  for (const dir of input.stateDir.listTaskDirs()) {
    if (lags.has(dir.taskId as TaskIdText)) continue
    const changelogs = changelogPartitionsOf(plan, dir.taskId)
    if (changelogs && changelogs.length > 0)
      pending.push({ taskId: dir.taskId, changelogs, checkpoints: [...dir.checkpoints] })
  }
  if (pending.length === 0) return lags
  let ends: Map<string, Map<number, bigint>>
  try {
    ends = await endOffsetsOf(
      input.admin,
      pending.flatMap(({ changelogs }) => changelogs)
    )
  } catch (error) {
    input.logger.warn({ err: error }, 'could not read changelog end offsets; task lags left out of the subscription')
    return lags
  }
  for (const { taskId, changelogs, checkpoints } of pending) {
    const lag = lagFromCheckpoints(changelogs, checkpoints, (topic, partition) => ends.get(topic)?.get(partition))
    if (lag !== undefined) lags.set(taskId as TaskIdText, lag)
  }
  return lags
}

/** End offsets of the changelog partitions, by topic and partition: one ListOffsets request per leader broker. */
async function endOffsetsOf(
  admin: Pick<KafkaAdmin, 'listOffsets'>,
  changelogs: readonly { topic: string; partition: number }[]
): Promise<Map<string, Map<number, bigint>>> {
  const byTopic = new Map<string, Set<number>>()
  for (const { topic, partition } of changelogs) byTopic.set(topic, (byTopic.get(topic) ?? new Set()).add(partition))
  return admin.listOffsets(
    [...byTopic].map(([topic, partitions]) => ({ topic, partitions: [...partitions] })),
    'latest'
  )
}

/**
 * For the group leader: per task, the sum of its changelog partitions' end offsets, the lag of a member with no
 * local copy (Kafka Streams' ClientState counts a missing offset sum as 0, so lag = end offset sum; like it, the log
 * start offset of a compacted or truncated changelog is not subtracted). Tasks without changelogs are left out.
 * Undefined when the end offsets cannot be read: then a member without state is never caught up, as before.
 */
export async function changelogEndOffsetSums(input: {
  plan: TopologyPlan
  admin: Pick<KafkaAdmin, 'listOffsets'>
  taskIds: Iterable<string>
  logger: Logger
}): Promise<Map<TaskIdText, bigint> | undefined> {
  const tasks: { taskId: string; changelogs: { topic: string; partition: number }[] }[] = []
  for (const taskId of input.taskIds) {
    const changelogs = changelogPartitionsOf(input.plan, taskId)
    if (changelogs && changelogs.length > 0) tasks.push({ taskId, changelogs })
  }
  const sums = new Map<TaskIdText, bigint>()
  if (tasks.length === 0) return sums
  let ends: Map<string, Map<number, bigint>>
  try {
    ends = await endOffsetsOf(
      input.admin,
      tasks.flatMap(({ changelogs }) => changelogs)
    )
  } catch (error) {
    input.logger.warn(
      { err: error },
      'could not read changelog end offsets; members without local state count as not caught up'
    )
    return undefined
  }
  for (const { taskId, changelogs } of tasks) {
    const sum = lagFromCheckpoints(changelogs, [], (topic, partition) => ends.get(topic)?.get(partition))
    if (sum !== undefined) sums.set(taskId as TaskIdText, sum)
  }
  return sums
}
