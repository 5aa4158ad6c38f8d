/**
 * When the handover benchmark's group counts as balanced, from each instance's GET /status: every task active exactly
 * once, each instance within one task of its share, no warm-up in flight, and (with standbys) a caught-up standby of
 * every task.
 */
import type { AppInstance } from '../../test/integration/runtime/instances.ts'
import { logLines } from '../../test/integration/runtime/standby-support.ts'

interface Status {
  active: { task: string }[]
  replicas: { task: string; kind: string; lag: number | null }[]
}

async function statusOf(instance: AppInstance): Promise<Status | undefined> {
  const port = logLines(instance, 'metrics and health endpoint listening')[0]?.port as number | undefined
  if (port === undefined) return undefined
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status
  } catch {
    return undefined
  }
}

/** Every task active exactly once, each instance within one task of its share, no warm-up in flight. */
export async function balanced(instances: AppInstance[], tasks: number, standbys: boolean): Promise<boolean> {
  const statuses = await Promise.all(instances.map(statusOf))
  if (statuses.some((s) => s === undefined)) return false
  const counts = statuses.map((s) => s!.active.length)
  const active = new Set(statuses.flatMap((s) => s!.active.map((t) => t.task)))
  if (active.size !== tasks || counts.reduce((a, b) => a + b, 0) !== tasks) return false
  if (Math.max(...counts) - Math.min(...counts) > 1) return false
  const replicas = statuses.flatMap((s) => s!.replicas)
  if (replicas.some((r) => r.kind === 'warmup')) return false
  // With standbys (and more than one instance) every task has one, caught up.
  if (standbys && instances.length > 1) {
    const caughtUp = replicas.filter((r) => r.kind === 'standby' && r.lag !== null && r.lag <= 1_000)
    if (new Set(caughtUp.map((r) => r.task)).size !== tasks) return false
  }
  return true
}
