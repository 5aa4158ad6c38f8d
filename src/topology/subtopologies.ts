import type { NodeDefinition, SinkDefinition, SourceDefinition } from './topology.ts'

/**
 * A connected part of a topology: nodes linked by parent/child edges or by a shared store. It is the unit of
 * parallelism: one task per partition number. A repartition topic (a sink into it, a source out of it) is a
 * boundary, since nothing links the sink to the source except the topic.
 */
export interface Subtopology {
  readonly id: number
  /** In insertion (topological) order. */
  readonly nodes: readonly NodeDefinition[]
  readonly sources: readonly SourceDefinition[]
  readonly sinks: readonly SinkDefinition[]
  /** Names of the stores its processors use. */
  readonly stores: readonly string[]
}

/**
 * Numbering follows the first node of each component in insertion order, so the same code always yields the same
 * ids: task ids, state directories and changelog partitions depend on them.
 */
export function computeSubtopologies(nodes: readonly NodeDefinition[]): Subtopology[] {
  const parent = new Map<string, string>()
  const find = (name: string): string => {
    let root = name
    while (parent.get(root) !== root) root = parent.get(root)!
    parent.set(name, root)
    return root
  }
  const union = (a: string, b: string): void => {
    const rootA = find(a)
    const rootB = find(b)
    if (rootA !== rootB) parent.set(rootB, rootA)
  }

  for (const node of nodes) parent.set(node.name, node.name)
  const storeOwner = new Map<string, string>()
  for (const node of nodes) {
    if (node.kind !== 'source') for (const p of node.predecessors) union(p, node.name)
    if (node.kind === 'processor') {
      for (const store of node.stores) {
        const owner = storeOwner.get(store)
        if (owner === undefined) storeOwner.set(store, node.name)
        else union(owner, node.name)
      }
    }
  }

  const groups = new Map<string, NodeDefinition[]>()
  for (const node of nodes) {
    const root = find(node.name)
    let group = groups.get(root)
    if (!group) {
      group = []
      groups.set(root, group)
    }
    group.push(node)
  }

  return [...groups.values()].map((group, id) => ({
    id,
    nodes: group,
    sources: group.filter((n): n is SourceDefinition => n.kind === 'source'),
    sinks: group.filter((n): n is SinkDefinition => n.kind === 'sink'),
    stores: [...new Set(group.flatMap((n) => (n.kind === 'processor' ? n.stores : [])))]
  }))
}
