/**
 * Coalesces `send()` calls into few produce requests. Calls made while a request is in flight wait for it and then
 * go out together, so the batch size adapts to load: one request at a time keeps the idempotent producer's
 * sequence numbers in order (a retried request can never overtake a later one) and still fills requests under load.
 * `lingerMs` only matters when the producer is idle: the first record waits that long for company.
 */

export interface BatcherOptions<Item, Result> {
  lingerMs: number
  /** A request is sent as soon as this many bytes are queued; larger calls still go out whole. */
  batchBytes: number
  /** Sends items as one request; resolves with one result per item, in order. */
  dispatch: (items: Item[]) => Promise<Result[]>
  /**
   * While it returns true, nothing new goes on the wire (queued items wait, checked again every HOLD_RECHECK_MS):
   * the caller may no longer be entitled to write them (see the runtime's MembershipGuard).
   */
  hold?: () => boolean
}

const HOLD_RECHECK_MS = 25

interface Pending<Item, Result> {
  items: Item[]
  bytes: number
  resolve: (results: Result[]) => void
  reject: (error: unknown) => void
}

export class ProduceBatcher<Item, Result> {
  readonly #options: BatcherOptions<Item, Result>
  #queue: Pending<Item, Result>[] = []
  #queuedBytes = 0
  #inflight: Promise<void> | null = null
  #timer: NodeJS.Timeout | null = null
  #urgent = false
  #errorSinceFlush: unknown = null
  #idleWaiters: (() => void)[] = []

  constructor(options: BatcherOptions<Item, Result>) {
    this.#options = options
  }

  /**
   * Queues items; resolves once the request carrying them is acknowledged. The promise may be left unawaited: a
   * failure is reported again by the next flush(), so it is marked handled here rather than crashing the process.
   */
  add(items: Item[], bytes: number): Promise<Result[]> {
    if (items.length === 0) return Promise.resolve([])
    const promise = new Promise<Result[]>((resolve, reject) => {
      this.#queue.push({ items, bytes, resolve, reject })
      this.#queuedBytes += bytes
      this.#schedule()
    })
    promise.catch(() => {})
    return promise
  }

  /** Sends what is queued now; resolves when all of it is acknowledged, rejects with the first failure since the last flush. */
  async flush(): Promise<void> {
    this.#urgent = true
    this.#schedule()
    await this.idle()
    this.#urgent = false
    const error = this.#errorSinceFlush
    this.#errorSinceFlush = null
    if (error) throw error
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#inflight) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Rejects everything queued but not yet sent (abort, close); what is in flight completes normally. */
  discardQueued(reason: Error): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const dropped = this.#queue
    this.#queue = []
    this.#queuedBytes = 0
    for (const p of dropped) p.reject(reason)
    this.#notifyIdle()
  }

  /** Forgets a failure recorded for flush(), e.g. once the transaction it belonged to was aborted. */
  clearError(): void {
    this.#errorSinceFlush = null
  }

  get queuedBytes(): number {
    return this.#queuedBytes
  }

  #schedule(): void {
    if (this.#inflight || this.#queue.length === 0) return
    if (this.#urgent || this.#queuedBytes >= this.#options.batchBytes) {
      if (this.#timer) clearTimeout(this.#timer)
      this.#fire()
      return
    }
    // Even a zero linger lets the calls of the current tick join the same request.
    this.#timer ??= setTimeout(() => this.#fire(), Math.max(0, this.#options.lingerMs))
  }

  #fire(): void {
    this.#timer = null
    if (this.#inflight || this.#queue.length === 0) return
    if (this.#options.hold?.()) {
      this.#timer = setTimeout(() => this.#fire(), HOLD_RECHECK_MS)
      return
    }
    const batch: Pending<Item, Result>[] = []
    let bytes = 0
    while (
      this.#queue.length > 0 &&
      (batch.length === 0 || bytes + this.#queue[0]!.bytes <= this.#options.batchBytes)
    ) {
      const next = this.#queue.shift()!
      bytes += next.bytes
      batch.push(next)
    }
    this.#queuedBytes -= bytes
    this.#inflight = this.#send(batch).finally(() => {
      this.#inflight = null
      // Whatever queued meanwhile has already waited a whole round trip: send it without lingering.
      if (this.#queue.length > 0) this.#fire()
      else this.#notifyIdle()
    })
  }

  async #send(batch: Pending<Item, Result>[]): Promise<void> {
    const items = batch.length === 1 ? batch[0]!.items : batch.flatMap((p) => p.items)
    try {
      const results = await this.#options.dispatch(items)
      let at = 0
      for (const p of batch) {
        p.resolve(results.slice(at, at + p.items.length))
        at += p.items.length
      }
    } catch (error) {
      this.#errorSinceFlush ??= error
      for (const p of batch) p.reject(error)
    }
  }

  #notifyIdle(): void {
    if (this.#queue.length > 0 || this.#inflight) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const w of waiters) w()
  }
}
