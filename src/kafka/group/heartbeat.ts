import { pause } from '../deadline.ts'
import type { GroupCoordinator } from './coordinator.ts'
import type { CommitGeneration } from './offsets.ts'

/**
 * Keeps the session alive and is the only way a classic-protocol member learns that a rebalance started: the
 * coordinator answers a heartbeat with REBALANCE_IN_PROGRESS. Runs on its own timer so heartbeats continue while the
 * caller's onRevoke / onAssigned are running; the member pauses it (via `current()`) while JoinGroup / SyncGroup are
 * in flight, where a heartbeat would only race the new generation.
 */
export interface HeartbeatTarget {
  /** The generation to heartbeat for, or undefined to skip this beat. */
  current(): CommitGeneration | undefined
  /** The beat sent at `sentAtMs` was acknowledged: the coordinator restarted the session when it received it. */
  onBeat(sent: CommitGeneration, sentAtMs: number): void
  onFailure(error: unknown, sent: CommitGeneration): void
}

export class HeartbeatLoop {
  readonly #coordinator: GroupCoordinator
  readonly #intervalMs: number
  readonly #target: HeartbeatTarget
  readonly #abort = new AbortController()
  #running: Promise<void> | undefined

  constructor(coordinator: GroupCoordinator, intervalMs: number, target: HeartbeatTarget) {
    this.#coordinator = coordinator
    this.#intervalMs = intervalMs
    this.#target = target
  }

  start(): void {
    this.#running ??= this.#run()
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    await this.#running
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal
    const groupId = this.#coordinator.groupId
    for (;;) {
      await pause(this.#intervalMs, signal)
      if (signal.aborted) return
      const sent = this.#target.current()
      if (!sent) continue
      const sentAtMs = Date.now()
      try {
        await this.#coordinator.request(
          'Heartbeat',
          'control',
          (connection, protocol) =>
            protocol.heartbeat.async(connection, groupId, sent.generationId, sent.memberId, sent.groupInstanceId),
          // One beat's retries (coordinator moved) must not delay the next beat.
          Date.now() + this.#intervalMs,
          signal
        )
        if (!signal.aborted) this.#target.onBeat(sent, sentAtMs)
      } catch (error) {
        if (!signal.aborted) this.#target.onFailure(error, sent)
      }
    }
  }
}
