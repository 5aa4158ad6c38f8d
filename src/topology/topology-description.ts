import type { Subtopology } from './subtopologies.ts'
import type { GlobalStoreDefinition, NodeDefinition } from './topology.ts'

/**
 * What `Topology.describe()` returns: the structure as data, and as text through `toString()` in the layout Kafka
 * Streams' `TopologyDescription` uses, so people who read those can read these.
 */
export interface TopologyDescription {
  readonly subtopologies: readonly SubtopologyDescription[]
  /** Global stores: a source and the processor that fills the store, numbered after the sub-topologies. */
  readonly globalStores: readonly GlobalStoreDescription[]
  toString(): string
}

export interface GlobalStoreDescription {
  readonly id: number
  readonly source: { readonly name: string; readonly topic: string }
  readonly processor: { readonly name: string; readonly store: string }
}

export interface SubtopologyDescription {
  readonly id: number
  readonly nodes: readonly NodeDescription[]
}

export type NodeDescription =
  | {
      readonly kind: 'source'
      readonly name: string
      readonly topics: readonly string[]
      readonly pattern: string | null
      readonly successors: readonly string[]
    }
  | {
      readonly kind: 'processor'
      readonly name: string
      readonly stores: readonly string[]
      readonly predecessors: readonly string[]
      readonly successors: readonly string[]
    }
  | {
      readonly kind: 'sink'
      readonly name: string
      readonly topic: string | null
      readonly predecessors: readonly string[]
    }

export function describeTopology(
  subtopologies: readonly Subtopology[],
  globalStores: readonly (readonly [string, GlobalStoreDefinition])[] = []
): TopologyDescription {
  const described: SubtopologyDescription[] = subtopologies.map((sub) => ({
    id: sub.id,
    nodes: sub.nodes.map(describeNode)
  }))
  const globals = globalStores.map(
    ([store, g], i): GlobalStoreDescription => ({
      id: subtopologies.length + i,
      source: { name: g.sourceName, topic: g.topic },
      processor: { name: g.processorName, store }
    })
  )
  return { subtopologies: described, globalStores: globals, toString: () => render(described, globals) }
}

function describeNode(node: NodeDefinition): NodeDescription {
  if (node.kind === 'source') {
    const { name, topics, successors } = node
    return { kind: 'source', name, topics, pattern: node.pattern?.source ?? null, successors }
  }
  if (node.kind === 'processor') {
    const { name, stores, predecessors, successors } = node
    return { kind: 'processor', name, stores, predecessors, successors }
  }
  const topic = typeof node.topic === 'string' ? node.topic : null
  return { kind: 'sink', name: node.name, topic, predecessors: node.predecessors }
}

function render(
  subtopologies: readonly SubtopologyDescription[],
  globalStores: readonly GlobalStoreDescription[]
): string {
  const lines = ['Topologies:']
  for (const sub of subtopologies) {
    lines.push(`   Sub-topology: ${sub.id}`)
    for (const node of sub.nodes) {
      switch (node.kind) {
        case 'source':
          lines.push(
            node.pattern === null
              ? `    Source: ${node.name} (topics: [${node.topics.join(', ')}])`
              : `    Source: ${node.name} (topic pattern: ${node.pattern})`
          )
          lines.push(`      --> ${list(node.successors)}`)
          break
        case 'processor':
          lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`)
          lines.push(`      --> ${list(node.successors)}`)
          lines.push(`      <-- ${list(node.predecessors)}`)
          break
        case 'sink':
          lines.push(`    Sink: ${node.name} (topic: ${node.topic ?? '<chosen per record>'})`)
          lines.push(`      <-- ${list(node.predecessors)}`)
          break
      }
    }
    lines.push('')
  }
  // As Kafka Streams prints a global store: its own sub-topology, which makes no tasks.
  for (const g of globalStores) {
    lines.push(`   Sub-topology: ${g.id} for global store (will not generate tasks)`)
    lines.push(`    Source: ${g.source.name} (topics: [${g.source.topic}])`)
    lines.push(`      --> ${g.processor.name}`)
    lines.push(`    Processor: ${g.processor.name} (stores: [${g.processor.store}])`)
    lines.push('      --> none')
    lines.push(`      <-- ${g.source.name}`)
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ')
}
