/**
 * Where the time of a pod-loss handover goes, from the killed instance's SIGKILL to the moment its partitions make
 * progress again on their new owners: the broker's group coordinator log (when it expired the member and started the
 * rebalance, when the join phase ended, when the leader's assignment arrived), the survivors' JSON logs (when each
 * learned of the rebalance, promoted its standbys, ran the new assignment, finished restoring) and the committed
 * offsets of the moved partitions (when they moved again). Every step is in ms after the kill.
 */
import { readFileSync } from 'node:fs'

export interface TimelineStep {
  step: string
  /** ms after the kill; undefined when the step was not seen. */
  afterMs: number | undefined
  detail?: string
}

/** A survivor's log as captured from its stderr, with where the capture stood at the kill. */
export interface SurvivorLog {
  log: string
  from: number
}

export interface TimelineInput {
  killedAt: number
  groupId: string
  brokerLogFile: string | undefined
  survivors: SurvivorLog[]
  /** Per input partition that moved: when its committed offset first moved after the kill. */
  resumedAt: ReadonlyMap<number, number>
}

interface BrokerLine {
  at: number
  text: string
}

/** `[2026-12-07 17:53:46,216] INFO ...`: the broker logs in the machine's local time, as `Date` parses it. */
function brokerLines(file: string | undefined, groupId: string, from: number): BrokerLine[] {
  if (!file) return []
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const lines: BrokerLine[] = []
  for (const line of text.split('\n')) {
    if (!line.includes(groupId)) continue
    const stamp = /^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})\]/.exec(line)
    if (!stamp) continue
    const at = new Date(`${stamp[1]}T${stamp[2]}.${stamp[3]}`).getTime()
    if (at >= from) lines.push({ at, text: line })
  }
  return lines
}

function jsonLines(survivor: SurvivorLog, msg: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = []
  for (const text of survivor.log.slice(survivor.from).split('\n')) {
    if (!text.includes(`"msg":"${msg}"`)) continue
    try {
      found.push(JSON.parse(text) as Record<string, unknown>)
    } catch {
      // a line cut by the end of the capture
    }
  }
  return found
}

/** The first line with `msg` in each survivor's log after the kill, as times. */
function firstTimes(survivors: SurvivorLog[], msg: string, filter: (line: Record<string, unknown>) => boolean) {
  return survivors
    .map((s) => jsonLines(s, msg).find(filter)?.time as number | undefined)
    .filter((t): t is number => t !== undefined)
}

export function handoverTimeline(input: TimelineInput): TimelineStep[] {
  const { killedAt, survivors } = input
  const after = (at: number | undefined) => (at === undefined ? undefined : at - killedAt)
  const broker = brokerLines(input.brokerLogFile, input.groupId, killedAt)
  const prepared = broker.find((l) => l.text.includes('Preparing to rebalance group'))
  const stabilized = broker.find((l) => l.text.includes('Stabilized group') && l.at >= (prepared?.at ?? 0))
  const assigned = broker.find(
    (l) => l.text.includes('Assignment received from leader') && l.at >= (stabilized?.at ?? 0)
  )
  const learned = firstTimes(survivors, 'rebalance started', () => true)
  const promoted = firstTimes(survivors, 'standby tasks promoted to active', () => true)
  const runningLines = survivors.flatMap((s) =>
    jsonLines(s, 'assignment running')
      .filter((l) => ((l.added as unknown[]) ?? []).length > 0)
      .slice(0, 1)
  )
  const running = runningLines.map((l) => l.time as number)
  const slowest = runningLines.reduce<Record<string, unknown> | undefined>(
    (a, b) => (a && (a.time as number) >= (b.time as number) ? a : b),
    undefined
  )
  const split = slowest?.ms as Record<string, number> | undefined
  const restored = survivors.flatMap((s) => jsonLines(s, 'task restored').map((l) => l.time as number))
  const resumed = [...input.resumedAt.values()]
  const reason = prepared && /\(reason: ([^)]*)\)/.exec(prepared.text)?.[1]
  const last = (times: number[]) => (times.length > 0 ? Math.max(...times) : undefined)
  const first = (times: number[]) => (times.length > 0 ? Math.min(...times) : undefined)
  return [
    { step: 'SIGKILL', afterMs: 0 },
    { step: 'broker expires the member, rebalance prepared', afterMs: after(prepared?.at), detail: reason },
    {
      step: 'survivors learn of the rebalance (heartbeat answer)',
      afterMs: after(last(learned)),
      detail: learned.length > 1 ? `first ${after(first(learned))} ms` : undefined
    },
    { step: 'join phase done (group stabilized)', afterMs: after(stabilized?.at) },
    { step: "leader's assignment received (SyncGroup)", afterMs: after(assigned?.at) },
    { step: 'standbys promoted to active', afterMs: after(last(promoted)) },
    {
      step: 'new assignment running (tasks started, offsets fetched)',
      afterMs: after(last(running)),
      detail:
        split &&
        Object.entries(split)
          .map(([what, ms]) => `${what} ${ms} ms`)
          .join(', ')
    },
    { step: 'promoted tasks restored (the tail)', afterMs: after(last(restored)) },
    {
      step: 'moved partitions commit again (first record processed + commit interval)',
      afterMs: after(last(resumed)),
      detail: resumed.length > 0 ? `first ${after(first(resumed))} ms, ${resumed.length} partitions` : undefined
    }
  ]
}
