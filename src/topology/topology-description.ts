import type { Subtopology } from './subtopologies.ts'
import type { NodeDefinition } from './topology.ts'

/**
 * What `Topology.describe()` returns: the structure as data, and as text through `toString()` in the layout Kafka
 * Streams' `TopologyDescription` uses, so people who read those can read these.
 */
export interface TopologyDescription {
  readonly subtopologies: readonly SubtopologyDescription[]
  toString(): string
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

export function describeTopology(subtopologies: readonly Subtopology[]): TopologyDescription {
  const described: SubtopologyDescription[] = subtopologies.map((sub) => ({
    id: sub.id,
    nodes: sub.nodes.map(describeNode)
  }))
  return { subtopologies: described, toString: () => render(described) }
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

function render(subtopologies: readonly SubtopologyDescription[]): string {
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
  return `${lines.join('\n')}\n`
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ')
}
