import { defaultPolicy } from '../keda/policy-adapter.ts'
import type { ScalingPolicy } from '../keda/policy-port.ts'
import type { ScalingPolicyConfig } from '../policy/config.ts'
import type { GroupSignals } from '../signals/types.ts'
import { instanceIdFor } from './worker-identity.ts'

/**
 * The local scaler's decision loop as one pure function: state + signals + what the worker processes are doing in,
 * new state + actions (start / stop / forget a slot) + log events out. No clock, no I/O: local-scaler.ts measures,
 * calls this, and carries the actions out through the worker pool.
 *
 * Scaling goes through the same policy binding as the KEDA scaler (policy-adapter.ts), with the scaler's own slot
 * count as the current replicas. On top of the policy's own holds (rebalance, restoration, joining members), a local
 * scaler never changes the count while a worker it started has not joined yet, while one it stopped has not exited
 * yet, or while the coordinator is rebalancing: every change is one membership change, finished before the next.
 * Crashed workers are restarted with exponential backoff whatever the holds say; that is repair, not scaling.
 */

/** `running`: alive and wanted; `stopping`: SIGTERM sent, not exited yet; `exited`: died without being asked. */
export type WorkerPhase = 'running' | 'stopping' | 'exited'

export interface WorkerObservation {
  slot: number
  /** Counts spawns of the slot, so a restarted worker is not mistaken for the one that crashed. */
  incarnation: number
  phase: WorkerPhase
  startedAtMs: number
  exitedAtMs?: number
}

export interface LocalStepConfig {
  groupId: string
  policy: ScalingPolicyConfig
  /** A worker not seen in the group (nor reporting) this long after its start is presumed started, with a warning. */
  startTimeoutMs: number
  /** First restart delay after a crash; doubles with each crash in a row. */
  restartBackoffMs: number
  maxRestartBackoffMs: number
  /** A worker that ran at least this long before dying starts its crash count afresh. */
  stableAfterMs: number
}

interface CrashRecord {
  incarnation: number
  /** Crashes in a row, this one included. */
  count: number
  restartAtMs: number
}

export interface LocalScalerState {
  /** Slots the scaler wants running: 0 .. replicas - 1. */
  readonly replicas: number
  /** The policy's own state, opaque here (stabilization history, idle clock, last known rate). */
  readonly policy: unknown
  /** slot -> the incarnation that has joined the group (or was presumed started). */
  readonly ready: Readonly<Record<number, number>>
  /** slot -> its latest crash, kept until a restarted worker has run `stableAfterMs`. */
  readonly crashes: Readonly<Record<number, CrashRecord>>
}

export type LocalAction =
  | { type: 'start'; slot: number; reason: string }
  | { type: 'stop'; slot: number; reason: string }
  /** Drop a crashed slot's record without starting it again (the count went below it). */
  | { type: 'forget'; slot: number; reason: string }

export interface LocalEvent {
  level: 'info' | 'warn'
  message: string
  fields: Record<string, unknown>
}

/** One tick's decision, with the numbers it was made from (logged as is). */
export interface LocalDecision {
  previous: number
  replicas: number
  /** The policy's recommendation; null when it could not be asked (no signals). */
  recommended: number | null
  /** Why the recommendation was not carried out now; null when it was (or equals the current count). */
  hold: string | null
  reason: string
  lag: number | null
  arrivalRate: number | null
  commitRate: number | null
  trueRatePerInstance: number | null
  members: number | null
  groupState: string | null
}

export interface StepInput {
  nowMs: number
  /** null when this tick's collection failed (`signalError` says why): the count then holds. */
  signals: GroupSignals | null
  signalError?: string
  workers: readonly WorkerObservation[]
  /** Instance ids with a fresh self-report: a worker that reports has started. */
  reporting: readonly string[]
}

export interface StepResult {
  state: LocalScalerState
  actions: LocalAction[]
  events: LocalEvent[]
  decision: LocalDecision
}

export function initialLocalState(replicas: number): LocalScalerState {
  return { replicas, policy: undefined, ready: {}, crashes: {} }
}

export function restartDelayMs(crashes: number, config: LocalStepConfig): number {
  return Math.min(config.maxRestartBackoffMs, config.restartBackoffMs * 2 ** Math.max(0, crashes - 1))
}

export function stepLocalScaler(
  state: LocalScalerState,
  input: StepInput,
  config: LocalStepConfig,
  policy: ScalingPolicy = defaultPolicy
): StepResult {
  const joined = joinedWorkers(state, input, config)
  const crashed = crashedWorkers(state, input, config)
  const missing = missingWorkers(state, input)
  const events = [...joined.events, ...crashed.events]
  const actions = [...crashed.actions, ...missing.actions]
  const starting = [...joined.starting, ...missing.slots]
  const { crashes, due } = crashed
  const restart = (replicas: number): void => {
    for (const d of due) {
      if (d.slot < replicas)
        actions.push({ type: 'start', slot: d.slot, reason: `restart after crash ${d.count} in a row` })
    }
  }
  const base = decisionNumbers(state, input.signals)
  const next = (replicas: number, policyState: unknown): LocalScalerState => ({
    replicas,
    policy: policyState,
    ready: joined.ready,
    crashes
  })

  const asked = askPolicy(state, input, config, policy)
  if (!asked.decided) {
    const reason = `no decision (${asked.failure}): holding ${state.replicas}`
    restart(state.replicas)
    return {
      state: next(state.replicas, state.policy),
      actions,
      events,
      decision: { ...base, replicas: state.replicas, recommended: null, hold: reason, reason }
    }
  }
  const { decided, signals } = asked

  // The policy sizes the scale-in step (in one step to what the need allows when the rate is known, at most
  // standbyReplicas + 1 while it is only a lower bound). A step is one handover that must finish (its workers exit,
  // the group settles) before the next change starts: membershipHold below.
  const target = decided.replicas
  const hold = target !== state.replicas ? membershipHold(input, signals, starting, config) : null
  if (hold !== null || target === state.replicas) {
    restart(state.replicas)
    return {
      state: next(state.replicas, decided.state),
      actions,
      events,
      decision: {
        ...base,
        replicas: state.replicas,
        recommended: decided.replicas,
        hold,
        reason: hold ? `${decided.reason}; held at ${state.replicas}: ${hold}` : decided.reason
      }
    }
  }

  restart(target)
  actions.push(...scaleActions(state.replicas, target, input, crashes))
  return {
    state: next(target, decided.state),
    actions,
    events,
    decision: { ...base, replicas: target, recommended: decided.replicas, hold: null, reason: decided.reason }
  }
}

/**
 * Which started workers have joined: by static instance id or client id in the group, or by a self-report; one not
 * seen after `startTimeoutMs` is presumed started. The rest are still starting.
 */
function joinedWorkers(
  state: LocalScalerState,
  input: StepInput,
  config: LocalStepConfig
): { ready: Record<number, number>; starting: number[]; events: LocalEvent[] } {
  const now = input.nowMs
  const ready: Record<number, number> = {}
  const events: LocalEvent[] = []
  const seen = new Set<string>(input.reporting)
  for (const m of input.signals?.snapshot.members ?? []) {
    if (m.groupInstanceId) seen.add(m.groupInstanceId)
    seen.add(m.clientId)
  }
  const starting: number[] = []
  for (const w of input.workers) {
    if (w.phase !== 'running') continue
    const id = instanceIdFor(config.groupId, w.slot)
    if (state.ready[w.slot] === w.incarnation) {
      ready[w.slot] = w.incarnation
    } else if (seen.has(id)) {
      ready[w.slot] = w.incarnation
      events.push({
        level: 'info',
        message: `worker ${id} joined`,
        fields: { worker: id, slot: w.slot, startupMs: now - w.startedAtMs }
      })
    } else if (now - w.startedAtMs >= config.startTimeoutMs) {
      ready[w.slot] = w.incarnation
      events.push({
        level: 'warn',
        message:
          `worker ${id} has not joined group ${config.groupId} after ${config.startTimeoutMs} ms; presumed started ` +
          `(does it use ${id} as its group.instance.id or client id, or post reports?)`,
        fields: { worker: id, slot: w.slot, startupMs: now - w.startedAtMs }
      })
    } else {
      starting.push(w.slot)
    }
  }
  return { ready, starting, events }
}

/**
 * Crashed workers: restart in their slot after a backoff that grows with crashes in a row. Restarts that are due
 * (`due`) go out after the decision, and only for slots that survive it: a scale-in does not first restart what it
 * removes. A crashed slot above the count is forgotten.
 */
function crashedWorkers(
  state: LocalScalerState,
  input: StepInput,
  config: LocalStepConfig
): {
  crashes: Record<number, CrashRecord>
  due: { slot: number; count: number }[]
  actions: LocalAction[]
  events: LocalEvent[]
} {
  const now = input.nowMs
  const crashes: Record<number, CrashRecord> = {}
  const due: { slot: number; count: number }[] = []
  const actions: LocalAction[] = []
  const events: LocalEvent[] = []
  for (const w of input.workers) {
    const previous = state.crashes[w.slot]
    if (w.phase !== 'exited') {
      // A crash record lives on until its slot's worker has run long enough to count as healthy again.
      if (previous && w.phase === 'running' && now - w.startedAtMs < config.stableAfterMs) crashes[w.slot] = previous
      continue
    }
    if (w.slot >= state.replicas) {
      actions.push({ type: 'forget', slot: w.slot, reason: `slot ${w.slot} is above the count ${state.replicas}` })
      continue
    }
    let crash = previous
    if (!crash || crash.incarnation !== w.incarnation) {
      const ranMs = (w.exitedAtMs ?? now) - w.startedAtMs
      const count = crash && ranMs < config.stableAfterMs ? crash.count + 1 : 1
      crash = { incarnation: w.incarnation, count, restartAtMs: (w.exitedAtMs ?? now) + restartDelayMs(count, config) }
      events.push({
        level: 'warn',
        message: `worker ${instanceIdFor(config.groupId, w.slot)} exited unexpectedly; restarting in ${crash.restartAtMs - now} ms`,
        fields: { worker: instanceIdFor(config.groupId, w.slot), slot: w.slot, crashesInARow: count, ranMs }
      })
    }
    crashes[w.slot] = crash
    if (now >= crash.restartAtMs) due.push({ slot: w.slot, count: crash.count })
  }
  return { crashes, due, actions, events }
}

/** Desired slots without any worker (first start, or a record lost): start them; reconciliation, not scaling. */
function missingWorkers(state: LocalScalerState, input: StepInput): { actions: LocalAction[]; slots: number[] } {
  const bySlot = new Set(input.workers.map((w) => w.slot))
  const actions: LocalAction[] = []
  const slots: number[] = []
  for (let slot = 0; slot < state.replicas; slot++) {
    if (!bySlot.has(slot)) {
      actions.push({ type: 'start', slot, reason: `slot ${slot} of ${state.replicas} has no worker` })
      slots.push(slot)
    }
  }
  return { actions, slots }
}

/** The numbers a decision is logged with. */
function decisionNumbers(
  state: LocalScalerState,
  signals: GroupSignals | null
): Omit<LocalDecision, 'replicas' | 'recommended' | 'hold' | 'reason'> {
  return {
    previous: state.replicas,
    lag: signals?.snapshot.totalLag ?? null,
    arrivalRate: signals?.rates.arrivalRate ?? null,
    commitRate: signals?.rates.commitRate ?? null,
    trueRatePerInstance: signals?.instances.trueRatePerInstance ?? null,
    members: signals ? signals.snapshot.members.length : null,
    groupState: signals?.snapshot.state ?? null
  }
}

/**
 * The policy's decision, or why there is none. Asked every tick, held or not, so its rate memory and stabilization
 * windows see every measurement.
 */
function askPolicy(
  state: LocalScalerState,
  input: StepInput,
  config: LocalStepConfig,
  policy: ScalingPolicy
):
  | { decided: ReturnType<ScalingPolicy['decide']>; signals: GroupSignals; failure?: undefined }
  | { decided?: undefined; failure: string } {
  const signals = input.signals
  let failure = input.signalError ?? 'collection failed'
  if (signals) {
    try {
      return { decided: policy.decide(signals, config.policy, state.policy, state.replicas), signals }
    } catch (error) {
      failure = `the policy refused the signals: ${error instanceof Error ? error.message : String(error)}`
    }
  }
  return { failure }
}

/** Why the count must not change now: a worker still stopping or starting, or the group rebalancing; null if none. */
function membershipHold(
  input: StepInput,
  signals: GroupSignals,
  starting: readonly number[],
  config: LocalStepConfig
): string | null {
  const stopping = input.workers.filter((w) => w.phase === 'stopping').map((w) => w.slot)
  const rebalancing =
    signals.snapshot.state === 'PreparingRebalance' ||
    signals.snapshot.state === 'CompletingRebalance' ||
    signals.instances.rebalanceInProgress
  if (stopping.length > 0) return `worker(s) ${list(config.groupId, stopping)} still stopping`
  if (starting.length > 0) return `worker(s) ${list(config.groupId, starting)} still starting`
  if (rebalancing) return `group rebalancing (coordinator state ${signals.snapshot.state})`
  return null
}

/** Starts the slots a scale-out adds; stops (or forgets) the slots a scale-in removes, highest first. */
function scaleActions(
  from: number,
  target: number,
  input: StepInput,
  crashes: Record<number, CrashRecord>
): LocalAction[] {
  const actions: LocalAction[] = []
  if (target > from) {
    for (let slot = from; slot < target; slot++) {
      actions.push({ type: 'start', slot, reason: `scale out ${from} -> ${target}` })
    }
    return actions
  }
  // Highest slots first, so the remaining ones stay 0 .. target - 1 and keep their static identities.
  const bySlot = new Map(input.workers.map((w) => [w.slot, w]))
  for (let slot = from - 1; slot >= target; slot--) {
    const worker = bySlot.get(slot)
    const reason = `scale in ${from} -> ${target}`
    if (worker?.phase === 'running') actions.push({ type: 'stop', slot, reason })
    else if (worker?.phase === 'exited') actions.push({ type: 'forget', slot, reason })
    delete crashes[slot]
  }
  return actions
}

function list(groupId: string, slots: readonly number[]): string {
  return [...new Set(slots)]
    .sort((a, b) => a - b)
    .map((s) => instanceIdFor(groupId, s))
    .join(', ')
}
