import type { StateStoreContext } from '../topology/index.ts'
import type { BytesBackend, BytesLayer, BytesWrite, ChangelogCodec } from './bytes-store.ts'
import { type BytesFlushListener, CachingLayer } from './caching-layer.ts'
import { ChangeLoggingLayer } from './change-logging.ts'
import { InvalidStoreArgumentError, StateLifecycleError, StoreNotAttachedError, StoreNotOpenError } from './errors.ts'
import type { ManagedStateStore, RestoreRecord, StoreServices } from './managed-store.ts'
import { MemoryBackend } from './memory-backend.ts'
import { MeteredLayer } from './metered-layer.ts'
import { PendingWrites } from './pending-writes.ts'

export interface LayeredStoreOptions {
  readonly name: string
  readonly persistent: boolean
  readonly logging: boolean
  readonly caching: boolean
  readonly codec: ChangelogCodec
  /** Names the physical layout; see `BytesBackend.layout`. */
  readonly layout: string
  /** Whether every key handed to the layers is one the store built and never changes (see `CachingLayer`). */
  readonly storeMadeKeys?: boolean
}

/**
 * The lifecycle every store of this layer shares: on `init` it stacks its byte layers (backend, pending writes,
 * change logging, caching), and it implements what the task's state manager drives (restore, commit, abort, wipe).
 * The typed stores extend it with their operations over `this.layer`.
 *
 * A store opened without services (the test driver's default `builder.build()`) works in memory, unlogged and
 * uncached, and makes its writes durable on every `flush()`; a persistent one refuses, as it has no directory.
 */
export abstract class LayeredStore implements ManagedStateStore {
  readonly managed = true
  readonly name: string
  readonly persistent: boolean
  changelogTopic: string | null = null
  /** The topic name serdes see: the changelog topic, even when logging is off (as Kafka Streams does). */
  protected serdeTopic = ''
  readonly #options: LayeredStoreOptions
  #services: StoreServices | null = null
  #state: 'created' | 'open' | 'closed' = 'created'
  #backend: BytesBackend | null = null
  #pending: PendingWrites | null = null
  #caching: CachingLayer | null = null
  #logging: ChangeLoggingLayer | null = null
  #top: BytesLayer | null = null
  /** The in-memory backend was given to the task's next incarnation: closing must not clear it. */
  #handedOver = false
  #partition = 0

  constructor(options: LayeredStoreOptions) {
    this.#options = options
    this.name = options.name
    this.persistent = options.persistent
  }

  attach(services: StoreServices): void {
    if (this.#state !== 'created') throw new StateLifecycleError(`state store ${this.name}: attach() after init()`)
    this.#services = services
  }

  init(context: StateStoreContext): void {
    if (this.#state !== 'created')
      throw new StoreNotOpenError(this.name, this.#state === 'open' ? 'already open' : 'closed')
    const services = this.#services
    this.#partition = context.taskId.partition
    this.serdeTopic = context.changelogTopic ?? `${context.applicationId}-${this.name}-changelog`
    let backend: BytesBackend
    if (this.persistent) {
      if (services === null) throw new StoreNotAttachedError(this.name)
      backend = services.persistentBackend(this.name)
    } else {
      const location = `memory store ${this.name} of task ${context.taskId}`
      backend = services?.memoryBackend?.(this.name, location) ?? new MemoryBackend(location)
    }
    this.#backend = backend
    const layout = backend.layout()
    if (layout !== this.#options.layout) {
      if (layout !== null) {
        services?.logger.warn(
          { store: this.name, task: String(context.taskId), was: layout, now: this.#options.layout },
          'state store layout changed (e.g. its retention); clearing it to restore from the changelog'
        )
        backend.clear()
      }
      backend.setLayout(this.#options.layout)
    }
    this.#pending = new PendingWrites(backend)
    let top: BytesLayer = this.#pending
    // The changelog topic is known even without a sink: a standby task restores and checkpoints it, never writes.
    this.changelogTopic = this.#options.logging ? context.changelogTopic : null
    // A source topic serving as changelog (a table's) is restored from and checkpointed, never written.
    const sink = context.changelogIsSourceTopic === true ? null : (services?.changelogSink ?? null)
    if (this.changelogTopic !== null && sink !== null) {
      this.#logging = new ChangeLoggingLayer(top, sink, this.changelogTopic, this.#partition, this.#options.codec)
      top = this.#logging
    }
    const cache = services?.recordCache ?? null
    if (this.#options.caching && cache !== null && cache.maxBytes > 0) {
      this.#caching = new CachingLayer(top, cache, `${context.taskId}/${this.name}`, this.#options.storeMadeKeys)
      top = this.#caching
    }
    if (services?.metering) top = new MeteredLayer(top, services.metering, this.name)
    this.#top = top
    // A logged store's data is only as good as the changelog offset it is known to match. Data without one (it was
    // written unlogged, or for another changelog) cannot be reconciled with the changelog, so it is restored anew.
    const checkpoint = backend.checkpoint()
    if (
      backend.persistent &&
      this.changelogTopic !== null &&
      checkpoint?.topic !== this.changelogTopic &&
      backend.approximateNumEntries() > 0
    ) {
      services?.logger.warn(
        { store: this.name, task: String(context.taskId), checkpointTopic: checkpoint?.topic ?? null },
        'state store has data but no checkpoint for its changelog; clearing it to restore from the changelog'
      )
      backend.clear()
    }
    this.#state = 'open'
    this.onOpen()
  }

  /** Hook: the store is open and its committed data readable (window stores find their stream time here). */
  protected onOpen(): void {}

  /** Hook: a restore batch was written; `writes` are physical keys and stored values. */
  protected onRestored(_writes: readonly BytesWrite[]): void {}

  /** True for a store whose `onRestored` reads the backend: its restored batches are written at once. */
  protected get readsBackendOnRestore(): boolean {
    return false
  }

  /** Entries in the store, uncommitted writes included; window and session stores count expired, undeleted ones. */
  approximateNumEntries(): number {
    return this.layer.approximateNumEntries()
  }

  protected get layer(): BytesLayer {
    if (this.#top === null)
      throw new StoreNotOpenError(this.name, this.#state === 'closed' ? 'closed' : 'not initialised')
    return this.#top
  }

  /** Committed data only, for hooks that run outside processing (restore, open). */
  protected get backend(): BytesBackend {
    if (this.#backend === null) throw new StoreNotOpenError(this.name, 'not initialised')
    return this.#backend
  }

  protected currentTimestamp(): number {
    return this.#services?.currentTimestamp() ?? Date.now()
  }

  protected checkKeySize(physicalBytes: number, logicalBytes: number): void {
    if (physicalBytes > this.backend.maxKeyBytes) {
      throw new InvalidStoreArgumentError(
        this.name,
        `a key of ${logicalBytes} serialized bytes is too large for ${this.backend.location}, which stores keys ` +
          `of up to ${this.backend.maxKeyBytes} bytes including ${physicalBytes - logicalBytes} bytes of layout`
      )
    }
  }

  /** Installs the byte-level flush listener; `false` when the store is not cached (the caller forwards itself). */
  protected setBytesFlushListener(listener: BytesFlushListener, sendOldValues: boolean): boolean {
    if (this.#top === null) throw new StoreNotOpenError(this.name, 'not initialised')
    if (this.#caching === null) return false
    this.#caching.setFlushListener(listener, sendOldValues)
    return true
  }

  /** Forwards and writes down cached updates. Unattached stores also make their writes durable here. */
  flush(): void {
    if (this.#state !== 'open') return
    this.#caching?.flush()
    if (this.#services === null) this.#pending!.commit(null)
  }

  commit(changelogOffset: bigint | null): void {
    if (this.#state !== 'open')
      throw new StoreNotOpenError(this.name, this.#state === 'closed' ? 'closed' : 'not initialised')
    const topic = this.changelogTopic
    this.#pending!.commit(
      changelogOffset === null || topic === null ? null : { topic, partition: this.#partition, offset: changelogOffset }
    )
  }

  abort(): void {
    this.#caching?.clear()
    this.#pending?.abort()
  }

  checkpointOffset(): bigint | null {
    const checkpoint = this.backend.checkpoint()
    if (checkpoint === null || checkpoint.topic !== this.changelogTopic) return null
    return checkpoint.offset
  }

  get pendingBytes(): number {
    return this.#pending?.pendingBytes ?? 0
  }

  /** Changelog records sent since open (0 when logging is off). */
  get changelogRecordsSent(): number {
    return this.#logging?.sent ?? 0
  }

  restoreBatch(records: readonly RestoreRecord[]): void {
    if (this.#state !== 'open') throw new StoreNotOpenError(this.name, 'not open for restoration')
    if (this.#pending!.hasWrites) {
      throw new StateLifecycleError(
        `state store ${this.name}: restoring over uncommitted writes; restore before processing, or commit/abort first`
      )
    }
    if (records.length === 0) return
    const codec = this.#options.codec
    // Consumed records are often views into a large fetch response; the heap backend keeps what it is given, so it
    // gets copies, or one retained key would pin a whole response in memory. LMDB copies into its file anyway.
    const own = this.persistent ? (bytes: Buffer) => bytes : (bytes: Buffer) => Buffer.from(bytes)
    const writes: BytesWrite[] = records.map((record) => ({
      key: own(codec.fromChangelogKey(record.key)),
      value: record.value === null ? null : own(codec.fromChangelogValue(record.value, record.timestamp))
    }))
    const last = records[records.length - 1]!.offset
    const topic = this.changelogTopic
    const checkpoint = topic === null ? null : { topic, partition: this.#partition, offset: last + 1n }
    // A store that reads its backend after each batch (onRestored) must see it there at once.
    if (checkpoint !== null && !this.readsBackendOnRestore && this.backend.restoreWrite) {
      this.backend.restoreWrite(writes, checkpoint)
    } else {
      this.backend.write(writes, checkpoint)
    }
    this.onRestored(writes)
  }

  /** Deletes committed keys below `bound` directly in the backend (expiry right after a restore). */
  protected expireCommitted(bound: Buffer): void {
    const doomed: BytesWrite[] = []
    const iterator = this.backend.range(undefined, undefined, false)
    try {
      for (let step = iterator.next(); !step.done; step = iterator.next()) {
        if (Buffer.compare(step.value.key, bound) >= 0) break
        doomed.push({ key: step.value.key, value: null })
      }
    } finally {
      iterator.return?.()
    }
    if (doomed.length > 0) this.backend.write(doomed, null)
  }

  wipe(): void {
    this.abort()
    this.backend.clear()
    this.onOpen()
  }

  handOverMemory(): BytesBackend | null {
    if (this.persistent || this.#state !== 'open' || this.#backend === null) return null
    // Only committed data travels: what a standby applied (restore batches are committed as they are written).
    this.#pending?.abort()
    this.#handedOver = true
    return this.#backend
  }

  close(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#caching?.close()
    this.#pending?.abort()
    if (!this.#handedOver) this.#backend?.close()
    this.#top = null
  }
}
