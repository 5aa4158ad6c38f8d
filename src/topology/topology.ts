import type { Serde } from '../serde/index.ts'
import { bytesSerde } from '../serde/index.ts'
import {
  recordTimestamp,
  type StreamPartitioner,
  type TimestampExtractor,
  type TopicNameExtractor
} from './extractors.ts'
import { INTERNAL_TOPIC_SUFFIXES, isInternalTopicName, repartitionTopicSuffix } from './internal-topics.ts'
import type { ProcessorSupplier } from './processor.ts'
import type { StoreBuilder } from './state-store.ts'
import { computeSubtopologies, type Subtopology } from './subtopologies.ts'
import { describeTopology, type TopologyDescription } from './topology-description.ts'
import { TopologyError } from './topology-errors.ts'

export interface SourceOptions<K = unknown, V = unknown> {
  /** Default: bytes, the records' keys as Buffers. */
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  /** Default: the timestamp stored with the record. */
  readonly timestampExtractor?: TimestampExtractor<K, V>
}

export interface SinkOptions<K = unknown, V = unknown> {
  /** Default: bytes, so keys must be Buffers. */
  readonly keySerde?: Serde<K>
  readonly valueSerde?: Serde<V>
  readonly partitioner?: StreamPartitioner<K, V>
}

export interface SourceDefinition {
  readonly kind: 'source'
  readonly name: string
  /** The topics as written in the topology: internal ones by their short name (`<name>-repartition`). */
  readonly topics: readonly string[]
  readonly pattern: RegExp | null
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  readonly timestampExtractor: TimestampExtractor
  readonly successors: readonly string[]
}

export interface ProcessorDefinition {
  readonly kind: 'processor'
  readonly name: string
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>
  readonly predecessors: readonly string[]
  readonly successors: readonly string[]
  readonly stores: readonly string[]
}

export interface SinkDefinition {
  readonly kind: 'sink'
  readonly name: string
  readonly topic: string | TopicNameExtractor<unknown, unknown>
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  readonly partitioner: StreamPartitioner<unknown, unknown> | undefined
  readonly predecessors: readonly string[]
}

export type NodeDefinition = SourceDefinition | ProcessorDefinition | SinkDefinition

export interface RepartitionTopicDefinition {
  /** The name the topology uses: `<name>-repartition`. */
  readonly topic: string
  /** Partition count chosen by the user; otherwise derived from the writing sub-topology's inputs at start. */
  readonly partitions: number | undefined
}

/** A global store and the topic that fills it (see `Topology.addGlobalStore`). */
export interface GlobalStoreDefinition {
  readonly builder: StoreBuilder
  readonly topic: string
  /** The processor that updates the store from the topic's records; absent: the records' bytes go in as they are. */
  readonly processor?: GlobalStoreProcessorDefinition
  /** The source and processor names `describe()` shows (Kafka Streams' global sub-topology). */
  readonly sourceName: string
  readonly processorName: string
}

/** A global store's own source (serdes, timestamps) and update processor (`Topology.addGlobalStore` with options). */
export interface GlobalStoreProcessorDefinition {
  readonly source: SourceDefinition
  readonly name: string
  readonly supplier: ProcessorSupplier<unknown, unknown, void, void>
}

/** `Topology.addGlobalStore`'s update processor, with the serdes and timestamp extractor of the records it gets. */
export interface GlobalStoreOptions<K, V> extends SourceOptions<K, V> {
  /**
   * Kafka Streams' state update processor: gets every record of the topic, deserialized, from every partition, and
   * writes the store (`context.getStateStore(storeName)`); it forwards nothing. It also fills the store at each
   * start, reading the topic from the beginning (Kafka Streams' reprocess-on-restore). Absent: the records' bytes go
   * into the store as they are (a `GlobalKTable`), and the serdes are not used.
   */
  readonly processor?: ProcessorSupplier<K, V, void, void>
  /** Default: `<store>-global-source` and `<store>-global-processor`. */
  readonly sourceName?: string
  readonly processorName?: string
}

function globalStoreProcessor<K, V>(
  sourceName: string,
  name: string,
  topic: string,
  supplier: ProcessorSupplier<K, V, void, void>,
  options: SourceOptions<K, V>
): GlobalStoreProcessorDefinition {
  return {
    source: {
      kind: 'source',
      name: sourceName,
      topics: [topic],
      pattern: null,
      keySerde: (options.keySerde ?? bytesSerde()) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? bytesSerde()) as Serde<unknown>,
      timestampExtractor: (options.timestampExtractor ?? recordTimestamp) as TimestampExtractor,
      successors: []
    },
    name,
    supplier: supplier as ProcessorSupplier<unknown, unknown, void, void>
  }
}

/** Shared by every copy of Streamlane loaded in a process (`Symbol.for`), unlike the class itself. */
const TOPOLOGY_BRAND = Symbol.for('streamlane.topology')

/**
 * Whether `value` is a Topology of any copy of Streamlane: an app module may import the installed package, dist/ or
 * src/ while the CLI runs another, so `instanceof` would reject a good topology.
 */
export function isTopology(value: unknown): value is Topology {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TOPOLOGY_BRAND] === true
}

type Mutable<T> = { -readonly [P in keyof T]: T[P] extends readonly (infer E)[] ? E[] : T[P] }

/**
 * A processor graph: sources read topics, processors transform, sinks write topics. Built by hand here or by the
 * DSL (`StreamsBuilder`). It knows nothing of application ids or partitions: `planTopology` binds it to an
 * application, and one `TaskProcessorGraph` per task runs it.
 *
 * Nodes are kept in insertion order, which is a topological order because parents must exist before children.
 */
export class Topology {
  /** See `isTopology`. */
  readonly [TOPOLOGY_BRAND] = true
  readonly #nodes = new Map<
    string,
    Mutable<SourceDefinition> | Mutable<ProcessorDefinition> | Mutable<SinkDefinition>
  >()
  readonly #topicToSource = new Map<string, string>()
  readonly #stores = new Map<string, { builder: StoreBuilder; processors: string[] }>()
  readonly #repartitionTopics = new Map<string, RepartitionTopicDefinition>()
  readonly #sourceChangelogs = new Map<string, string>()
  readonly #globalStores = new Map<string, GlobalStoreDefinition>()

  addSource<K = Buffer, V = Buffer>(
    name: string,
    topics: string | readonly string[] | RegExp,
    options: SourceOptions<K, V> = {}
  ): this {
    this.#checkNewName(name)
    const pattern = topics instanceof RegExp ? topics : null
    const topicList = pattern ? [] : typeof topics === 'string' ? [topics] : [...(topics as readonly string[])]
    if (!pattern && topicList.length === 0) throw new TopologyError(`source ${name} must read at least one topic`)
    for (const topic of topicList) {
      if (topic.length === 0) throw new TopologyError(`source ${name} has an empty topic name`)
      const other = this.#topicToSource.get(topic)
      if (other !== undefined) {
        throw new TopologyError(
          `topic ${topic} is already read by source ${other}; a topic can feed only one source (source ${name})`
        )
      }
    }
    for (const topic of topicList) this.#topicToSource.set(topic, name)
    this.#nodes.set(name, {
      kind: 'source',
      name,
      topics: topicList,
      pattern,
      keySerde: (options.keySerde ?? bytesSerde()) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? bytesSerde()) as Serde<unknown>,
      timestampExtractor: (options.timestampExtractor ?? recordTimestamp) as TimestampExtractor,
      successors: []
    })
    return this
  }

  addProcessor<KIn, VIn, KOut, VOut>(
    name: string,
    supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>,
    ...parentNames: string[]
  ): this {
    this.#checkNewName(name)
    if (typeof supplier !== 'function') throw new TopologyError(`processor ${name} needs a supplier function`)
    this.#checkParents(name, parentNames)
    this.#nodes.set(name, {
      kind: 'processor',
      name,
      supplier: supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>,
      predecessors: [...parentNames],
      successors: [],
      stores: []
    })
    this.#link(name, parentNames)
    return this
  }

  addSink<K = Buffer, V = Buffer>(
    name: string,
    topic: string | TopicNameExtractor<K, V>,
    options: SinkOptions<K, V> = {},
    ...parentNames: string[]
  ): this {
    this.#checkNewName(name)
    if (typeof topic === 'string' && topic.length === 0) throw new TopologyError(`sink ${name} has an empty topic name`)
    this.#checkParents(name, parentNames)
    this.#nodes.set(name, {
      kind: 'sink',
      name,
      topic: topic as string | TopicNameExtractor<unknown, unknown>,
      keySerde: (options.keySerde ?? bytesSerde()) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? bytesSerde()) as Serde<unknown>,
      partitioner: options.partitioner as StreamPartitioner<unknown, unknown> | undefined,
      predecessors: [...parentNames]
    })
    this.#link(name, parentNames)
    return this
  }

  /**
   * Adds a global store (Kafka Streams' `addGlobalStore` for a `GlobalKTable`): filled from every partition of
   * `topic` in every instance, before processing starts and while it runs, and readable by every processor through
   * `getStateStore(name)`. The topic is its changelog: the builder must have logging off. Without `options`, its
   * records go into the store as they are (key and value bytes, timestamp), as a restore does, and records without a
   * key are skipped (a `GlobalKTable`); with `options.processor`, that processor writes the store from each record.
   */
  addGlobalStore<K = Buffer, V = Buffer>(
    builder: StoreBuilder,
    topic: string,
    options?: GlobalStoreOptions<K, V>
  ): this {
    if (this.#stores.has(builder.name) || this.#globalStores.has(builder.name)) {
      throw new TopologyError(`a state store named ${builder.name} was already added`)
    }
    if (builder.loggingEnabled) {
      throw new TopologyError(`global store ${builder.name} must have logging off: its topic ${topic} is its changelog`)
    }
    if (typeof topic !== 'string' || topic.length === 0)
      throw new TopologyError(`global store ${builder.name} needs a topic`)
    if ((builder as { persistent?: boolean }).persistent === true) {
      throw new TopologyError(
        `global store ${builder.name} must be in memory (persistent: false): global stores are filled from their ` +
          `topic ${topic} at each start`
      )
    }
    const other = this.#topicToSource.get(topic)
    if (other !== undefined) {
      throw new TopologyError(
        `topic ${topic} is already read by ${other}; a topic can feed only one source (global store ${builder.name})`
      )
    }
    if (options?.processor !== undefined && typeof options.processor !== 'function') {
      throw new TopologyError(`global store ${builder.name} needs a processor supplier function`)
    }
    this.#topicToSource.set(topic, `global store ${builder.name}`)
    const sourceName = options?.sourceName ?? `${builder.name}-global-source`
    const processorName = options?.processorName ?? `${builder.name}-global-processor`
    this.#globalStores.set(builder.name, {
      builder,
      topic,
      sourceName,
      processorName,
      ...(options?.processor === undefined
        ? {}
        : { processor: globalStoreProcessor(sourceName, processorName, topic, options.processor, options) })
    })
    return this
  }

  /** Global stores by name, with the topic each is filled from. */
  globalStores(): ReadonlyMap<string, GlobalStoreDefinition> {
    return this.#globalStores
  }

  /** Adds a store, available to the named processors (and later ones through `connectProcessorAndStateStores`). */
  addStateStore(builder: StoreBuilder, ...processorNames: string[]): this {
    if (this.#stores.has(builder.name)) throw new TopologyError(`a state store named ${builder.name} was already added`)
    this.#stores.set(builder.name, { builder, processors: [] })
    return this.connectProcessorAndStateStores(...processorNames.map((p) => [p, builder.name] as const))
  }

  /** Gives processors access to stores: `connectProcessorAndStateStores(['counter', 'counts'])`. */
  connectProcessorAndStateStores(
    ...connections: ReadonlyArray<readonly [processorName: string, storeName: string]>
  ): this {
    for (const [processorName, storeName] of connections) {
      const node = this.#nodes.get(processorName)
      if (node?.kind !== 'processor') {
        throw new TopologyError(
          `cannot connect store ${storeName}: ${processorName} is not a processor of this topology`
        )
      }
      const store = this.#stores.get(storeName)
      if (!store)
        throw new TopologyError(`processor ${processorName} uses state store ${storeName}, which was not added`)
      if (!node.stores.includes(storeName)) node.stores.push(storeName)
      if (!store.processors.includes(processorName)) store.processors.push(processorName)
    }
    return this
  }

  /**
   * Makes source topic `topic` the changelog of store `storeName` (Kafka Streams' source-topic reuse for tables): no
   * `<app.id>-<store>-changelog` is created, the store restores from `topic` and checkpoints its offsets, and it never
   * writes to it. The store's serdes must be the source's, since restored bytes go into the store as they are.
   */
  useSourceTopicAsChangelog(storeName: string, topic: string): this {
    const store = this.#stores.get(storeName)
    if (!store)
      throw new TopologyError(`cannot use ${topic} as the changelog of state store ${storeName}: no such store`)
    if (!store.builder.loggingEnabled) {
      throw new TopologyError(
        `state store ${storeName} has logging disabled, so it cannot have topic ${topic} as changelog`
      )
    }
    if (!this.#topicToSource.has(topic)) {
      throw new TopologyError(`cannot use ${topic} as the changelog of state store ${storeName}: no source reads it`)
    }
    this.#sourceChangelogs.set(storeName, topic)
    return this
  }

  /** Stores whose changelog is a source topic: store name -> topic. */
  sourceTopicChangelogs(): ReadonlyMap<string, string> {
    return this.#sourceChangelogs
  }

  /**
   * Declares an internal topic, named `<app.id>-<name>-repartition` once the application is known. Returns the name
   * to use in `addSink` / `addSource`; a sink writing it and a source reading it split the graph into two
   * sub-topologies, so records are redistributed by key between them.
   */
  addRepartitionTopic(name: string, options: { partitions?: number } = {}): string {
    return this.addInternalTopic(repartitionTopicSuffix(name), options)
  }

  /**
   * Declares an internal topic by its whole short name, `<app.id>-<topic>` once the application is known, for the
   * internal topics Kafka Streams does not name `-repartition` (a foreign-key join's `...-subscription-registration-topic`
   * and `...-subscription-response-topic`). It is created, partitioned and read as a repartition topic.
   */
  addInternalTopic(topic: string, options: { partitions?: number } = {}): string {
    if (!isInternalTopicName(topic)) {
      throw new TopologyError(`internal topic ${topic}: the name must end with ${INTERNAL_TOPIC_SUFFIXES.join(' or ')}`)
    }
    if (this.#repartitionTopics.has(topic)) throw new TopologyError(`repartition topic ${topic} was already declared`)
    const { partitions } = options
    if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
      throw new TopologyError(`repartition topic ${topic}: partitions must be a positive integer, got ${partitions}`)
    }
    this.#repartitionTopics.set(topic, { topic, partitions })
    return topic
  }

  nodes(): readonly NodeDefinition[] {
    return [...this.#nodes.values()]
  }

  node(name: string): NodeDefinition | undefined {
    return this.#nodes.get(name)
  }

  storeBuilders(): ReadonlyMap<string, StoreBuilder> {
    return new Map([...this.#stores].map(([name, store]) => [name, store.builder]))
  }

  repartitionTopics(): ReadonlyMap<string, RepartitionTopicDefinition> {
    return this.#repartitionTopics
  }

  /** Connected components of the graph (edges and shared stores), numbered in the order their nodes were added. */
  subtopologies(): readonly Subtopology[] {
    return computeSubtopologies(this.nodes())
  }

  describe(): TopologyDescription {
    return describeTopology(this.subtopologies(), [...this.#globalStores.entries()])
  }

  #checkNewName(name: string): void {
    if (typeof name !== 'string' || name.length === 0) throw new TopologyError('node names must be non-empty strings')
    if (this.#nodes.has(name)) throw new TopologyError(`a node named ${name} already exists in this topology`)
  }

  #checkParents(name: string, parentNames: readonly string[]): void {
    if (parentNames.length === 0) throw new TopologyError(`${name} needs at least one parent`)
    for (const parent of parentNames) {
      const node = this.#nodes.get(parent)
      if (!node)
        throw new TopologyError(`parent ${parent} of ${name} does not exist (add parents before their children)`)
      if (node.kind === 'sink')
        throw new TopologyError(`sink ${parent} cannot be the parent of ${name}: sinks have no children`)
    }
    if (new Set(parentNames).size !== parentNames.length) throw new TopologyError(`${name} lists a parent twice`)
  }

  #link(child: string, parentNames: readonly string[]): void {
    for (const parent of parentNames) {
      const node = this.#nodes.get(parent)
      if (node && node.kind !== 'sink') node.successors.push(child)
    }
  }
}
