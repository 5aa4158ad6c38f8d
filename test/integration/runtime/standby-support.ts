/**
 * What the standby and warm-up tests read from an instance: its JSON log lines, the tasks its last assignment gave
 * it, how much it restored, and how far its local copies (checkpoint files) have caught up.
 */
import { join } from 'node:path'
import type { KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createPartitionReader, OFFSET_EARLIEST } from '../../../src/kafka/partition-reader.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { checkpointPath, readCheckpointFile } from '../../../src/state/checkpoint-file.ts'
import { testBrokers } from '../../support/kafka.ts'
import type { AppInstance } from './instances.ts'

type LogLine = Record<string, unknown> & { msg?: string }

/** The instance's log lines with message `msg`, from character `from` of its log on. */
export function logLines(instance: AppInstance, msg: string, from = 0): LogLine[] {
  const lines: LogLine[] = []
  for (const text of instance.log.slice(from).split('\n')) {
    if (!text.includes(`"msg":"${msg}"`)) continue
    try {
      lines.push(JSON.parse(text) as LogLine)
    } catch {
      // a line cut by the end of the captured output
    }
  }
  return lines
}

/** Changelog records restored on the critical path (sum of "task restored" lines), from character `from` on. */
export function restoredRecords(instance: AppInstance, from = 0): number {
  return logLines(instance, 'task restored', from).reduce((sum, line) => sum + (line.records as number), 0)
}

/** Active tasks of the instance's last applied assignment. */
export function activeTasks(instance: AppInstance): string[] {
  return (logLines(instance, 'assignment running').at(-1)?.active as string[] | undefined) ?? []
}

/** Standby and warm-up tasks of the instance's last standby assignment. */
export function replicaTasks(instance: AppInstance): { standby: string[]; warmup: string[] } {
  const last = logLines(instance, 'standby and warm-up tasks assigned').at(-1)
  return { standby: (last?.standby as string[]) ?? [], warmup: (last?.warmup as string[]) ?? [] }
}

/** End offset of each partition of a topic. */
export async function partitionEnds(admin: KafkaAdmin, topic: string): Promise<Map<number, bigint>> {
  return (await admin.listOffsets([{ topic }], 'latest')).get(topic)!
}

/**
 * Whether the checkpoint file of each task directory in `tasks` (under `<stateDir>/<appId>/`) has reached the
 * changelog's end for the task's partition: the local copy is complete.
 */
export function checkpointsAtEnd(
  stateDir: string,
  appId: string,
  changelog: string,
  tasks: readonly string[],
  ends: ReadonlyMap<number, bigint>
): boolean {
  return tasks.every((task) => {
    const partition = Number(task.split('_')[1])
    const offsets = readCheckpointFile(checkpointPath(join(stateDir, appId, task)))
    const offset = offsets.find((o) => o.topic === changelog && o.partition === partition)?.offset ?? -1n
    // Under exactly-once the end is past the last commit marker, which no record ever checkpoints.
    return offset >= ends.get(partition)! - 1n && offset > 0n
  })
}

/** Every record of `topic` up to its current end (read_committed: under exactly-once the end is past markers). */
export async function readToEnd(admin: KafkaAdmin, topic: string, timeoutMs = 60_000): Promise<ConsumedRecord[]> {
  const ends = await partitionEnds(admin, topic)
  const reader = createPartitionReader({ brokers: testBrokers(), isolation: 'read_committed', copyBuffers: true })
  const records: ConsumedRecord[] = []
  try {
    await reader.assign([...ends.keys()].map((partition) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    const deadline = Date.now() + timeoutMs
    const done = () => [...ends].every(([partition, end]) => (reader.position(topic, partition) ?? -1n) >= end)
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic} to its end`)
      records.push(...(await reader.poll(200)))
    }
    return records
  } finally {
    await reader.close()
  }
}
