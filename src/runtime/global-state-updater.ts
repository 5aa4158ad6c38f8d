import {
  type ConsumedRecord,
  type IsolationLevel,
  type KafkaAdmin,
  type KafkaPartitionReader,
  OFFSET_EARLIEST,
  UnknownTopicError
} from '../kafka/index.ts'
import type { Logger } from '../observe/index.ts'
import { Headers } from '../serde/index.ts'
import { GlobalStores } from '../state/index.ts'
import type { StateStore, TopologyPlan } from '../topology/index.ts'
import { GlobalStoreProcessors, TopologyError } from '../topology/index.ts'

export interface GlobalStateUpdaterOptions {
  readonly plan: TopologyPlan
  readonly admin: KafkaAdmin
  /** A reader of its own (no group): every partition of every global topic is assigned to it. Closed with this. */
  readonly reader: KafkaPartitionReader
  /** The end offsets to bootstrap to: read_committed (last stable offsets) under exactly-once. */
  readonly isolation: IsolationLevel
  readonly logger: Logger
  /** Called when the stores can no longer be kept up to date (the app should stop rather than read stale data). */
  readonly onFailed: (error: Error) => void
}

/**
 * Keeps the process's global stores (`GlobalKTable`s) filled from every partition of their topics, Kafka Streams'
 * global stream thread: `start()` reads each topic from the beginning up to its end as of the start (bootstrap),
 * before any task processes, then a background loop applies new records as they come. Tasks read the stores through
 * `stores` (`TaskProcessorGraphOptions.globalStores`). The topics are the stores' changelogs; the stores are on the
 * heap and bootstrapped again at each start.
 */
export class GlobalStateUpdater {
  readonly #options: GlobalStateUpdaterOptions
  readonly #stores: GlobalStores
  /** The update processors of stores added with one (`addGlobalStore`); the other stores take the bytes as read. */
  readonly #processors: GlobalStoreProcessors
  /** Topic -> global store name. */
  readonly #storeOf: ReadonlyMap<string, string>
  #loop: Promise<void> | null = null
  #closed = false

  private constructor(options: GlobalStateUpdaterOptions) {
    this.#options = options
    const { plan } = options
    this.#storeOf = new Map([...plan.globalStores].map(([store, { topic }]) => [topic, store]))
    this.#stores = new GlobalStores(
      plan.applicationId,
      [...plan.globalStores.values()].map((g) => g.builder)
    )
    this.#processors = new GlobalStoreProcessors({
      applicationId: plan.applicationId,
      definitions: plan.globalStores,
      stores: this.#stores.stores,
      wallClock: Date.now
    })
  }

  /** Bootstraps every global store, then keeps them updated; on failure closes what it opened and throws. */
  static async start(options: GlobalStateUpdaterOptions): Promise<GlobalStateUpdater> {
    const updater = new GlobalStateUpdater(options)
    try {
      await updater.#bootstrap()
    } catch (error) {
      await updater.close()
      throw error
    }
    updater.#loop = updater.#follow()
    return updater
  }

  get stores(): ReadonlyMap<string, StateStore> {
    return this.#stores.stores
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#options.reader.close()
    await this.#loop
    await this.#processors.close()
    await this.#stores.close()
  }

  async #bootstrap(): Promise<void> {
    const { admin, reader, isolation, logger } = this.#options
    const topics = [...this.#storeOf.keys()]
    for (const topic of topics) {
      try {
        await admin.describeTopics([topic])
      } catch (error) {
        if (!(error instanceof UnknownTopicError)) throw error
        throw new TopologyError(
          `global table ${this.#storeOf.get(topic)} reads topic ${topic}, which does not exist; create it before ` +
            'starting the application, or check the topic name given to globalTable()'
        )
      }
    }
    const ends = await admin.listOffsets(
      topics.map((topic) => ({ topic })),
      'latest',
      { isolation }
    )
    const targets: { topic: string; partition: number; end: bigint }[] = []
    for (const [topic, partitions] of ends) {
      for (const [partition, end] of partitions) targets.push({ topic, partition, end })
    }
    await reader.assign(targets.map(({ topic, partition }) => ({ topic, partition, offset: OFFSET_EARLIEST })))
    const started = Date.now()
    let records = 0
    const behind = () =>
      targets.some(({ topic, partition, end }) => end > 0n && (reader.drainedPosition(topic, partition) ?? -1n) < end)
    while (behind()) {
      if (this.#closed) return
      records += await this.#apply(await reader.poll(500))
    }
    logger.info(
      { stores: [...this.#storeOf.values()], partitions: targets.length, records, ms: Date.now() - started },
      'global stores bootstrapped'
    )
  }

  /** Applies new records until closed; a failure ends the loop and is reported (`onFailed`). */
  async #follow(): Promise<void> {
    try {
      for await (const batch of this.#options.reader.batches(500)) {
        if (this.#closed) return
        await this.#apply(batch)
      }
    } catch (error) {
      if (!this.#closed) this.#options.onFailed(error instanceof Error ? error : new Error(String(error)))
    }
  }

  async #apply(records: readonly ConsumedRecord[]): Promise<number> {
    const byTopic = new Map<string, ConsumedRecord[]>()
    for (const record of records) {
      const list = byTopic.get(record.topic)
      if (list) list.push(record)
      else byTopic.set(record.topic, [record])
    }
    for (const [topic, batch] of byTopic) {
      const store = this.#storeOf.get(topic)!
      if (!this.#processors.has(store)) {
        this.#stores.apply(store, batch)
        continue
      }
      await this.#processors.process(
        store,
        batch.map((record) => ({
          ...record,
          offset: Number(record.offset),
          headers: record.headers.length === 0 ? Headers.empty : Headers.from(record.headers)
        }))
      )
      this.#stores.commit()
    }
    return records.length
  }
}
