import type { TaskIdText } from '../task-id.ts'
import type { AssignorConfig } from './config.ts'
import { best, type GroupView, listSome, type MemberView } from './group-view.ts'
import type { TaskSpec } from './tasks.ts'

/*
 * Where each task runs as active, and which warm-ups prepare the moves that high availability postpones.
 *
 *   1. Sticky: a task stays with its previous owner if that member may still receive tasks.
 *   2. Orphans (owner gone, draining, or a new task) go to a caught-up member, preferring one with room, then one
 *      holding a standby (the scale-in handover path), then the least lag. If nobody is caught up, to the most
 *      caught-up member. Stateful orphans are placed before stateless ones.
 *   3. Quotas: every member gets floor(T/n) tasks, and the T mod n extra slots go to the members holding the most now,
 *      so the fewest tasks move.
 *   4. Balance: members under quota pull tasks from members over quota, but only tasks they are caught up on. A slot
 *      that cannot be filled that way gets a warm-up instead (within maxWarmupReplicas): the task keeps running where
 *      it is, the warm-up restores in the background, and a later rebalance moves the task once it has caught up.
 */

export interface ActivePlacement {
  /** Target active owner of every task (member id), before the cooperative handover step. */
  owner: Map<TaskIdText, string>
  /** Warm-up replica per task (member id), at most one per task and maxWarmupReplicas in all. */
  warmups: Map<TaskIdText, string>
  /** Moves balance wanted but high availability postponed (the receiver was not caught up). */
  postponedMoves: number
  log: string[]
}

export function placeActiveTasks(view: GroupView, config: AssignorConfig): ActivePlacement {
  const { tasks, eligible: members } = view
  const draft = newDraft(members)
  const log: string[] = []
  if (members.length === 0 || tasks.length === 0)
    return { owner: draft.owner, warmups: new Map(), postponedMoves: 0, log }

  keepStickyOwners(view, draft)
  const orphans = placeOrphans(view, draft)
  if (orphans > 0) log.push(`${orphans} task(s) without an eligible previous owner placed on caught-up members`)
  const quota = quotas(view, draft)
  const { warmups, moved, postponedMoves } = balance(view, config, draft, quota)
  if (moved > 0) log.push(`${moved} task(s) moved to balance load`)
  if (postponedMoves > 0) {
    const list = listSome([...warmups].map(([task, member]) => `${task}->${member}`))
    log.push(
      `${postponedMoves} move(s) postponed until the receiver catches up (lag <= ${config.acceptableRecoveryLag}); ` +
        `warm-ups: ${list || 'none (budget exhausted)'}`
    )
  }
  return { owner: draft.owner, warmups, postponedMoves, log }
}

/** The placement being built: each task's owner, and how many tasks each member holds so far. */
interface Draft {
  readonly owner: Map<TaskIdText, string>
  readonly load: Map<string, number>
}

function newDraft(members: readonly MemberView[]): Draft {
  return { owner: new Map(), load: new Map(members.map((member) => [member.memberId, 0])) }
}

function assign(draft: Draft, task: TaskSpec, member: MemberView): void {
  const { owner, load } = draft
  const previous = owner.get(task.id)
  if (previous !== undefined) load.set(previous, load.get(previous)! - 1)
  owner.set(task.id, member.memberId)
  load.set(member.memberId, load.get(member.memberId)! + 1)
}

/** 1. Sticky: a task stays with its previous owner if that member may still receive tasks. */
function keepStickyOwners(view: GroupView, draft: Draft): void {
  for (const task of view.tasks) {
    const previous = view.previousOwner.get(task.id)
    if (previous?.eligible) assign(draft, task, previous)
  }
}

/**
 * 2. Orphans go to a caught-up member (room first, then a standby holder, then the least lag), else to the most
 * caught-up one. Stateful tasks are placed first: a stateless task can run anywhere at no cost, so it must not take
 * the room of a member whose disk holds a stateful task's state (a pod restarted with its volume gets its tasks back).
 */
function placeOrphans(view: GroupView, draft: Draft): number {
  const { tasks, eligible: members } = view
  const { owner, load } = draft
  const ceil = Math.ceil(tasks.length / members.length)
  let orphans = 0
  for (const task of [...tasks.filter((t) => t.stateful), ...tasks.filter((t) => !t.stateful)]) {
    if (owner.has(task.id)) continue
    orphans++
    const full = (member: MemberView) => (load.get(member.memberId)! >= ceil ? 1 : 0)
    // Among caught-up members the least lag wins before the least load: every one of them restores at most
    // acceptableRecoveryLag records, but the one holding the freshest copy (typically the task's previous owner,
    // restarted with its state dir) restores least. Balance moves tasks on afterwards, to caught-up members only.
    const chosen = view.anyCaughtUp(task)
      ? best(
          members.filter((member) => view.isCaughtUp(member, task)),
          (member) => [
            full(member),
            member.ownedStandby.has(task.id) ? 0 : 1,
            view.lag(member, task),
            load.get(member.memberId)!,
            member.memberId
          ]
        )
      : best(members, (member) => [view.lag(member, task), full(member), load.get(member.memberId)!, member.memberId])
    assign(draft, task, chosen!)
  }
  return orphans
}

/** 3. Quotas: floor(T/n) each, and the T mod n extra slots to the members holding the most now. */
function quotas(view: GroupView, draft: Draft): Map<string, number> {
  const { tasks, eligible: members } = view
  const { load } = draft
  const floor = Math.floor(tasks.length / members.length)
  const quota = new Map<string, number>()
  const extras = tasks.length % members.length
  ;[...members]
    .sort((a, b) => load.get(b.memberId)! - load.get(a.memberId)! || (a.memberId < b.memberId ? -1 : 1))
    .forEach((member, index) => {
      quota.set(member.memberId, floor + (index < extras ? 1 : 0))
    })
  return quota
}

/**
 * 4. Balance: members under quota pull tasks they are caught up on from members over quota, one slot per receiver
 * per pass so a small warm-up budget is shared fairly; a slot that cannot be filled that way gets a warm-up instead.
 */
function balance(
  view: GroupView,
  config: AssignorConfig,
  draft: Draft,
  quota: ReadonlyMap<string, number>
): { warmups: Map<TaskIdText, string>; moved: number; postponedMoves: number } {
  const { tasks, eligible: members } = view
  const { owner, load } = draft
  const warmups = new Map<TaskIdText, string>()
  const excess = (memberId: string) => load.get(memberId)! - quota.get(memberId)!
  const ownedOf = (memberId: string, subtopologyId: number): number => {
    let count = 0
    for (const task of tasks) if (task.subtopologyId === subtopologyId && owner.get(task.id) === memberId) count++
    return count
  }
  const open = new Map<MemberView, number>()
  for (const member of members) {
    const deficit = -excess(member.memberId)
    if (deficit > 0) open.set(member, deficit)
  }
  let budget = config.maxWarmupReplicas
  const warmingFrom = new Map<string, number>()
  let postponedMoves = 0
  let moved = 0
  while (open.size > 0) {
    for (const [receiver, slots] of open) {
      const rank = (task: TaskSpec) => [
        // Leave tasks being warmed up elsewhere for the member warming them.
        warmups.has(task.id) && warmups.get(task.id) !== receiver.memberId ? 1 : 0,
        // Spread every sub-topology over the members (as Kafka Streams does): otherwise a newcomer takes the
        // cheapest tasks (stateless ones have no lag) and one member is left with all the stateful work.
        ownedOf(receiver.memberId, task.subtopologyId),
        -ownedOf(owner.get(task.id)!, task.subtopologyId),
        view.lag(receiver, task),
        -excess(owner.get(task.id)!),
        view.taskIndex.get(task.id)!
      ]
      const overQuota = tasks.filter((task) => excess(owner.get(task.id)!) > 0)
      const movable = best(
        overQuota.filter((task) => canMove(view, task, owner.get(task.id)!, receiver)),
        rank
      )
      // The task the spread wants here, caught up or not. When the receiver is not caught up on it, taking another
      // (a stateless one) instead would fill the slot and leave the sub-topology unspread for good: warm it up.
      const wanted = best(overQuota, rank)
      const spreadWanted =
        wanted !== undefined &&
        movable !== undefined &&
        wanted.stateful &&
        !canMove(view, wanted, owner.get(wanted.id)!, receiver) &&
        ownedOf(receiver.memberId, wanted.subtopologyId) < ownedOf(receiver.memberId, movable.subtopologyId)
      if (movable && !spreadWanted) {
        assign(draft, movable, receiver)
        moved++
        if (warmups.get(movable.id) === receiver.memberId) {
          warmups.delete(movable.id)
          budget++
        }
      } else {
        postponedMoves++
        if (budget > 0) {
          const warmup = spreadWanted
            ? warmupTarget(view, receiver, wanted, draft, warmups)
            : warmupFor(view, receiver, draft, warmups, warmingFrom, excess)
          if (warmup) {
            const holder = owner.get(warmup.id)!
            warmups.set(warmup.id, receiver.memberId)
            warmingFrom.set(holder, (warmingFrom.get(holder) ?? 0) + 1)
            budget--
          }
        }
      }
      if (slots <= 1) open.delete(receiver)
      else open.set(receiver, slots - 1)
    }
  }
  return { warmups, moved, postponedMoves }
}

/** `task` itself, if the receiver may warm it up: no warm-up elsewhere yet, held on another process. */
function warmupTarget(
  view: GroupView,
  receiver: MemberView,
  task: TaskSpec,
  draft: Draft,
  warmups: ReadonlyMap<TaskIdText, string>
): TaskSpec | undefined {
  const holder = view.byId.get(draft.owner.get(task.id)!)!
  return !warmups.has(task.id) && holder.processId !== receiver.processId ? task : undefined
}

/** The stateful task a receiver should warm up, from a holder over quota on another process; none if there is none. */
function warmupFor(
  view: GroupView,
  receiver: MemberView,
  draft: Draft,
  warmups: ReadonlyMap<TaskIdText, string>,
  warmingFrom: ReadonlyMap<string, number>,
  excess: (memberId: string) => number
): TaskSpec | undefined {
  const { owner } = draft
  return best(
    view.tasks.filter((task) => {
      const holder = owner.get(task.id)!
      return (
        task.stateful &&
        !warmups.has(task.id) &&
        excess(holder) > 0 &&
        view.byId.get(holder)!.processId !== receiver.processId
      )
    }),
    (task) => {
      const holder = owner.get(task.id)!
      // Spread warm-ups over donors so that, once caught up, each can actually give a task away.
      const spare = excess(holder) - (warmingFrom.get(holder) ?? 0) > 0 ? 0 : 1
      return [spare, view.lag(receiver, task), view.taskIndex.get(task.id)!]
    }
  )
}

/**
 * High availability: a task may move to a member that is caught up on it; if nobody eligible is caught up, to a member
 * at least as caught up as the current holder (so "most caught-up" placement is never undone for balance).
 */
function canMove(view: GroupView, task: TaskSpec, from: string, to: MemberView): boolean {
  if (view.isCaughtUp(to, task)) return true
  if (view.anyCaughtUp(task)) return false
  return view.lag(to, task) <= view.lag(view.byId.get(from)!, task)
}
