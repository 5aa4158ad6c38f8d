import type { TaskIdText } from '../task-id.ts'
import { best, type GroupView, type MemberView } from './group-view.ts'

/*
 * Standby replicas: numStandbyReplicas copies of each stateful task, each on a process holding no other replica of
 * it (not the active's, not a warm-up's, not another standby's) because a process has one state directory, and a
 * second copy there would survive nothing the first does not.
 *
 * First every member keeps the standbys it already has (up to its share), so standbys do not restore again after
 * every rebalance. Then free slots go to members with the lowest lag (least to restore), balanced by a per-member
 * share of ceil(slots / members) that is only exceeded when process constraints leave no other choice.
 */

export interface StandbyPlacement {
  standbys: Map<TaskIdText, string[]>
  log: string[]
}

/**
 * @param occupied per task, the processes already holding a replica (active owner, warm-up, handover target)
 * @param activeLoad per member, its active task count (a tie-breaker: spread standbys to less busy members)
 */
export function placeStandbyTasks(
  view: GroupView,
  numStandbyReplicas: number,
  occupied: ReadonlyMap<TaskIdText, ReadonlySet<string>>,
  activeLoad: ReadonlyMap<string, number>
): StandbyPlacement {
  const standbys = new Map<TaskIdText, string[]>()
  const log: string[] = []
  const members = view.eligible
  const stateful = view.tasks.filter((task) => task.stateful)
  if (numStandbyReplicas === 0 || members.length === 0 || stateful.length === 0) return { standbys, log }

  const processes = new Set(members.map((member) => member.processId))
  const used = new Map<TaskIdText, Set<string>>()
  const wanted = new Map<TaskIdText, number>()
  let totalSlots = 0
  for (const task of stateful) {
    const taken = new Set(occupied.get(task.id) ?? [])
    used.set(task.id, taken)
    const free = [...processes].filter((process) => !taken.has(process)).length
    const slots = Math.min(numStandbyReplicas, free)
    wanted.set(task.id, slots)
    totalSlots += slots
  }
  const share = Math.ceil(totalSlots / members.length)
  const load = new Map<string, number>(members.map((member) => [member.memberId, 0]))
  const place = (taskId: TaskIdText, member: MemberView): void => {
    const list = standbys.get(taskId) ?? []
    list.push(member.memberId)
    standbys.set(taskId, list)
    used.get(taskId)!.add(member.processId)
    wanted.set(taskId, wanted.get(taskId)! - 1)
    load.set(member.memberId, load.get(member.memberId)! + 1)
  }
  const allowed = (taskId: TaskIdText, member: MemberView) => !used.get(taskId)!.has(member.processId)

  // Keep existing standbys (lowest lag first when several members of the group hold one).
  for (const task of stateful) {
    const holders = members
      .filter((member) => member.ownedStandby.has(task.id))
      .sort((a, b) => {
        const byLag = view.lag(a, task) - view.lag(b, task)
        return byLag < 0n ? -1 : byLag > 0n ? 1 : a.memberId < b.memberId ? -1 : 1
      })
    for (const member of holders) {
      if (wanted.get(task.id)! > 0 && allowed(task.id, member) && load.get(member.memberId)! < share) {
        place(task.id, member)
      }
    }
  }

  for (const task of stateful) {
    while (wanted.get(task.id)! > 0) {
      const chosen = best(
        members.filter((member) => allowed(task.id, member)),
        (member) => [
          load.get(member.memberId)! >= share ? 1 : 0,
          view.lag(member, task),
          load.get(member.memberId)!,
          activeLoad.get(member.memberId) ?? 0,
          member.memberId
        ]
      )
      if (!chosen) break
      place(task.id, chosen)
    }
  }
  for (const list of standbys.values()) list.sort()
  const missing = stateful.length * numStandbyReplicas - [...standbys.values()].reduce((n, l) => n + l.length, 0)
  if (missing > 0) {
    log.push(
      `${missing} standby replica(s) not placed: ${processes.size} eligible process(es) cannot hold ` +
        `${numStandbyReplicas} standby(s) per task on processes other than the active's`
    )
  }
  return { standbys, log }
}
