/**
 * The topology as a graph the status page draws: every node with the topics and stores it touches, placed in a
 * column (its longest path from a source of its sub-topology) and a row (its place in that column), the edges within
 * each sub-topology, and the links between sub-topologies: a sink's topic that a source of another one reads (a
 * repartition topic, or a user topic written and read by the same app). Pure: computed from `topology.describe()`.
 */
import type { NodeDescription, TopologyDescription } from '../topology/index.ts'

export interface TopologyGraphNode {
  name: string
  kind: NodeDescription['kind']
  subtopology: number
  column: number
  row: number
  /** A source's topics (or its pattern), a sink's topic (empty when chosen per record). */
  topics: string[]
  /** A processor's stores. */
  stores: string[]
}

export interface TopologyGraph {
  subtopologies: { id: number; columns: number; rows: number }[]
  nodes: TopologyGraphNode[]
  /** Within a sub-topology, from a node to one of its successors. */
  edges: { from: string; to: string }[]
  /** From a sink to a source of another sub-topology that reads its topic. */
  links: { from: string; to: string; topic: string }[]
}

function topicsOf(node: NodeDescription): string[] {
  if (node.kind === 'source') return node.pattern === null ? [...node.topics] : [`/${node.pattern}/`]
  if (node.kind === 'sink') return node.topic === null ? [] : [node.topic]
  return []
}

function successorsOf(node: NodeDescription): readonly string[] {
  return node.kind === 'sink' ? [] : node.successors
}

/** Columns by longest path from the sources, in topological order (a sub-topology is acyclic). */
function columns(nodes: readonly NodeDescription[]): Map<string, number> {
  const names = new Set(nodes.map((n) => n.name))
  const incoming = new Map(nodes.map((n) => [n.name, 0]))
  for (const node of nodes)
    for (const next of successorsOf(node)) if (names.has(next)) incoming.set(next, incoming.get(next)! + 1)
  const column = new Map<string, number>()
  const ready = nodes.filter((n) => incoming.get(n.name) === 0)
  for (const node of ready) column.set(node.name, 0)
  const byName = new Map(nodes.map((n) => [n.name, n]))
  while (ready.length > 0) {
    const node = ready.shift()!
    for (const next of successorsOf(node)) {
      if (!names.has(next)) continue
      column.set(next, Math.max(column.get(next) ?? 0, column.get(node.name)! + 1))
      incoming.set(next, incoming.get(next)! - 1)
      if (incoming.get(next) === 0) ready.push(byName.get(next)!)
    }
  }
  return column
}

export function topologyGraph(description: TopologyDescription): TopologyGraph {
  const graph: TopologyGraph = { subtopologies: [], nodes: [], edges: [], links: [] }
  for (const sub of description.subtopologies) {
    const column = columns(sub.nodes)
    const rowsUsed: number[] = []
    for (const node of sub.nodes) {
      const c = column.get(node.name) ?? 0
      const row = rowsUsed[c] ?? 0
      rowsUsed[c] = row + 1
      graph.nodes.push({
        name: node.name,
        kind: node.kind,
        subtopology: sub.id,
        column: c,
        row,
        topics: topicsOf(node),
        stores: node.kind === 'processor' ? [...node.stores] : []
      })
      for (const next of successorsOf(node)) graph.edges.push({ from: node.name, to: next })
    }
    graph.subtopologies.push({
      id: sub.id,
      columns: rowsUsed.length,
      rows: Math.max(0, ...rowsUsed.map((r) => r ?? 0))
    })
  }
  for (const sink of graph.nodes) {
    if (sink.kind !== 'sink') continue
    for (const source of graph.nodes) {
      if (source.kind !== 'source' || source.subtopology === sink.subtopology) continue
      for (const topic of sink.topics)
        if (source.topics.includes(topic)) graph.links.push({ from: sink.name, to: source.name, topic })
    }
  }
  return graph
}
