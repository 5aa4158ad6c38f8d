/**
 * The states of a Streamlane app and the transitions allowed between them, as in Kafka Streams' KafkaStreams.State.
 * REBALANCING lasts, as there, until the group is stable AND every active task assigned to the instance has restored
 * its stores (tasks already restored keep processing meanwhile); RUNNING means every assigned task processes. So
 * RUNNING is Kubernetes readiness (`/ready`): a pod that is still restoring is not ready.
 */
import { StreamlaneError } from '../errors.ts'
import type { AppState } from '../observe/index.ts'
import { Listeners } from './listeners.ts'

// The state names are observe's (observe/app-status.ts): observe shows them without importing the runtime.
export type { AppState }

const allowed: Record<AppState, readonly AppState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN']
}

export type StateListener = (next: AppState, previous: AppState) => void

export class AppLifecycle {
  #state: AppState = 'CREATED'
  readonly #listeners = new Listeners<Parameters<StateListener>>()

  get state(): AppState {
    return this.#state
  }

  onChange(listener: StateListener): () => void {
    return this.#listeners.add(listener)
  }

  /** Moves to `next`; a transition the table does not allow is a bug in the runtime, so it throws. */
  transition(next: AppState): void {
    const previous = this.#state
    if (previous === next && next !== 'REBALANCING') return
    if (!allowed[previous].includes(next)) {
      throw new StreamlaneError('STREAMLANE_ILLEGAL_STATE', `app cannot move from ${previous} to ${next}`)
    }
    this.#state = next
    this.#listeners.emit([next, previous])
  }

  /** Ready in the Kubernetes sense: joined, and every assigned active task restored and processing. */
  get ready(): boolean {
    return this.#state === 'RUNNING'
  }

  /** Alive in the Kubernetes sense: everything but a stopped or failed app (restoring and rebalancing are alive). */
  get live(): boolean {
    return this.#state !== 'ERROR' && this.#state !== 'NOT_RUNNING'
  }

  isShuttingDown(): boolean {
    return this.#state === 'PENDING_SHUTDOWN' || this.#state === 'NOT_RUNNING'
  }
}
