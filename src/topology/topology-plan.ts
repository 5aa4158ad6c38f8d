import { ConfigError } from '../errors.ts'
import { changelogTopicName, internalTopicName, isInternalTopicOf } from './internal-topics.ts'
import type { StoreBuilder } from './state-store.ts'
import type { GlobalStoreDefinition, NodeDefinition, SinkDefinition, SourceDefinition, Topology } from './topology.ts'
import { TopologyError } from './topology-errors.ts'

/** One sub-topology with every topic name resolved for an application. */
export interface SubtopologyPlan {
  readonly id: number
  readonly nodes: readonly NodeDefinition[]
  readonly sources: readonly SourceDefinition[]
  readonly sinks: readonly SinkDefinition[]
  /** Named source topics, full names: external topics and this application's repartition topics. */
  readonly sourceTopics: readonly string[]
  /** Pattern sources; the topics they match are known only from cluster metadata (`planPartitions`). */
  readonly sourcePatterns: readonly RegExp[]
  /** The subset of `sourceTopics` that are repartition topics. */
  readonly repartitionSourceTopics: readonly string[]
  /** Fixed sink topics, full names (sinks that choose their topic per record are not listed). */
  readonly sinkTopics: readonly string[]
  readonly stores: readonly string[]
}

export interface RepartitionTopicPlan {
  /** `<app.id>-<name>-repartition` */
  readonly name: string
  /** As the topology names it, `<name>-repartition`. */
  readonly shortName: string
  /** Chosen by the user, else derived at start by `planPartitions`. */
  readonly partitions: number | undefined
  /** Sub-topologies whose sinks write it. */
  readonly writers: readonly number[]
  /** The sub-topology that reads it. */
  readonly reader: number
}

export interface ChangelogTopicPlan {
  /** `<app.id>-<store>-changelog` */
  readonly name: string
  readonly store: string
  readonly subtopology: number
  readonly config: Readonly<Record<string, string>>
}

/**
 * A topology bound to an application id: what the runtime needs to create internal topics, subscribe, and run
 * tasks. Pure data; partition counts come in `planPartitions` once cluster metadata is known.
 */
export class TopologyPlan {
  readonly applicationId: string
  readonly topology: Topology
  readonly subtopologies: readonly SubtopologyPlan[]
  /** By full name. */
  readonly repartitionTopics: ReadonlyMap<string, RepartitionTopicPlan>
  /** By full name: the changelog topics to create. Stores logging to a source topic are not here. */
  readonly changelogTopics: ReadonlyMap<string, ChangelogTopicPlan>
  /**
   * Stores whose changelog is a source topic (tables read with `builder.table()`): store name -> full topic name.
   * Nothing is created for them; the runtime restores them from that topic and, at commit, passes the task's
   * consumed offset of that topic partition as the store's changelog offset.
   */
  readonly sourceChangelogTopics: ReadonlyMap<string, string>
  readonly storeBuilders: ReadonlyMap<string, StoreBuilder>
  /** Global stores (`GlobalKTable`): store name -> the topic filling it, every partition, in every instance. */
  readonly globalStores: ReadonlyMap<string, GlobalStoreDefinition>
  readonly #shortToFull: ReadonlyMap<string, string>
  readonly #subtopologyByTopic: Map<string, SubtopologyPlan | null>

  constructor(topology: Topology, applicationId: string) {
    checkApplicationId(applicationId)
    this.applicationId = applicationId
    this.topology = topology
    this.storeBuilders = topology.storeBuilders()
    this.globalStores = topology.globalStores()
    const subtopologies = topology.subtopologies()
    if (subtopologies.length === 0) throw new TopologyError('the topology is empty: add at least one source')

    const shortToFull = new Map<string, string>()
    for (const [shortName] of topology.repartitionTopics()) {
      shortToFull.set(shortName, internalTopicName(applicationId, shortName))
    }
    this.#shortToFull = shortToFull
    const resolve = (topic: string): string => shortToFull.get(topic) ?? topic

    this.subtopologies = subtopologies.map((sub) => {
      const sourceTopics = sub.sources.flatMap((source) => source.topics.map(resolve))
      const sinkTopics = [
        ...new Set(sub.sinks.flatMap((sink) => (typeof sink.topic === 'string' ? [resolve(sink.topic)] : [])))
      ]
      return {
        id: sub.id,
        nodes: sub.nodes,
        sources: sub.sources,
        sinks: sub.sinks,
        sourceTopics,
        sourcePatterns: sub.sources.flatMap((source) => (source.pattern ? [source.pattern] : [])),
        repartitionSourceTopics: sourceTopics.filter((topic) => isFullRepartitionName(shortToFull, topic)),
        sinkTopics,
        stores: sub.stores
      }
    })

    const repartitionTopics = new Map<string, RepartitionTopicPlan>()
    for (const [shortName, definition] of topology.repartitionTopics()) {
      const name = resolve(shortName)
      const readers = this.subtopologies.filter((sub) => sub.sourceTopics.includes(name))
      const writers = this.subtopologies.filter((sub) => sub.sinkTopics.includes(name))
      if (readers.length === 0)
        throw new TopologyError(`repartition topic ${shortName} is written but no source reads it`)
      if (writers.length === 0) throw new TopologyError(`repartition topic ${shortName} is read but no sink writes it`)
      repartitionTopics.set(name, {
        name,
        shortName,
        partitions: definition.partitions,
        writers: writers.map((sub) => sub.id),
        reader: readers[0]!.id
      })
    }
    this.repartitionTopics = repartitionTopics

    const changelogTopics = new Map<string, ChangelogTopicPlan>()
    const sourceChangelogTopics = new Map<string, string>()
    const sourceChangelogs = topology.sourceTopicChangelogs()
    for (const [storeName, builder] of this.storeBuilders) {
      const owner = this.subtopologies.find((sub) => sub.stores.includes(storeName))
      if (!owner) throw new TopologyError(`state store ${storeName} is not connected to any processor`)
      if (!builder.loggingEnabled) continue
      const sourceTopic = sourceChangelogs.get(storeName)
      if (sourceTopic !== undefined) {
        const full = resolve(sourceTopic)
        if (!owner.sourceTopics.includes(full)) {
          throw new TopologyError(
            `state store ${storeName} uses topic ${sourceTopic} as its changelog, but its sub-topology ${owner.id} does not read it`
          )
        }
        sourceChangelogTopics.set(storeName, full)
        continue
      }
      const name = changelogTopicName(applicationId, storeName)
      changelogTopics.set(name, { name, store: storeName, subtopology: owner.id, config: builder.changelogConfig })
    }
    this.changelogTopics = changelogTopics
    this.sourceChangelogTopics = sourceChangelogTopics
    this.#subtopologyByTopic = new Map()
    for (const sub of this.subtopologies) for (const topic of sub.sourceTopics) this.#subtopologyByTopic.set(topic, sub)
  }

  /**
   * The changelog a store restores from: its `<app.id>-<store>-changelog`, or a source topic (`source: true`, never
   * written by the store), or null when the store is not logged.
   */
  changelogOf(storeName: string): { readonly topic: string; readonly source: boolean } | null {
    const sourceTopic = this.sourceChangelogTopics.get(storeName)
    if (sourceTopic !== undefined) return { topic: sourceTopic, source: true }
    const builder = this.storeBuilders.get(storeName)
    if (builder === undefined || !builder.loggingEnabled) return null
    return { topic: changelogTopicName(this.applicationId, storeName), source: false }
  }

  /** The full name of a topic as the topology writes it: repartition topics get the application prefix. */
  resolveTopic(topic: string): string {
    return this.#shortToFull.get(topic) ?? topic
  }

  /** The sub-topology that reads `topic` (by name or pattern), or undefined. */
  subtopologyReading(topic: string): SubtopologyPlan | undefined {
    const known = this.#subtopologyByTopic.get(topic)
    if (known !== undefined) return known ?? undefined
    let found: SubtopologyPlan | null = null
    if (!isInternalTopicOf(this.applicationId, topic)) {
      found =
        this.subtopologies.find((sub) => sub.sourcePatterns.some((pattern) => matchesWhole(pattern, topic))) ?? null
    }
    this.#subtopologyByTopic.set(topic, found)
    return found ?? undefined
  }

  /** The source node of `subtopology` that reads `topic`. */
  sourceReading(subtopology: SubtopologyPlan, topic: string): SourceDefinition | undefined {
    return (
      subtopology.sources.find((source) => source.topics.some((t) => this.resolveTopic(t) === topic)) ??
      subtopology.sources.find((source) => source.pattern !== null && matchesWhole(source.pattern, topic))
    )
  }
}

/** Binds a topology to an application id. Throws `TopologyError` for graphs that cannot run. */
export function planTopology(topology: Topology, applicationId: string): TopologyPlan {
  return new TopologyPlan(topology, applicationId)
}

/** Pattern sources match whole topic names, as Kafka's pattern subscription does. */
export function matchesWhole(pattern: RegExp, topic: string): boolean {
  const match = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(topic)
  return match !== null && match.index === 0 && match[0].length === topic.length
}

function isFullRepartitionName(shortToFull: ReadonlyMap<string, string>, topic: string): boolean {
  for (const full of shortToFull.values()) if (full === topic) return true
  return false
}

function checkApplicationId(applicationId: string): void {
  if (typeof applicationId !== 'string' || applicationId.length === 0) {
    throw new ConfigError('applicationId', 'must be a non-empty string')
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(applicationId)) {
    throw new ConfigError(
      'applicationId',
      `"${applicationId}" may contain only letters, digits, '.', '_' and '-' (it prefixes topic names)`
    )
  }
}
