/**
 * A share session with one broker (KIP-932): the broker remembers which partitions a member fetches from it, and
 * every ShareFetch / ShareAcknowledge in the session carries the next epoch (0 opens, -1 closes, then 1, 2, ... and
 * back to 1 after Int32 max). Requests of one session must therefore go one at a time, in order: `run` chains them.
 */
export class ShareSession {
  /** The epoch the next request carries. */
  epoch = 0
  /** `topicId:partition` of the partitions the broker has in this session. */
  readonly partitions = new Set<string>()
  #tail: Promise<unknown> = Promise.resolve()

  /** Runs `work` after every request queued before it, whatever their outcome. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(work, work)
    this.#tail = next.catch(() => {})
    return next
  }

  /** The request with the current epoch succeeded. */
  advance(): void {
    this.epoch = this.epoch >= 0x7fffffff ? 1 : this.epoch + 1
  }

  /** The broker lost or refused the session (or the connection broke): the next request opens a new one. */
  reset(): void {
    this.epoch = 0
    this.partitions.clear()
  }

  get open(): boolean {
    return this.epoch > 0
  }
}

export function sessionPartitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`
}

/** The topic id and partition of a `sessionPartitionKey`. */
export function splitSessionPartitionKey(key: string): [topicId: string, partition: number] {
  const at = key.lastIndexOf(':')
  return [key.slice(0, at), Number(key.slice(at + 1))]
}
