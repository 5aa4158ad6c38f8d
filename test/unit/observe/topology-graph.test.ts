import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes, StreamsBuilder } from '../../../src/index.ts'
import { topologyGraph } from '../../../src/observe/topology-graph.ts'

test('nodes in columns by their longest path from a source, edges within and a link across sub-topologies', () => {
  const builder = new StreamsBuilder()
  const words = builder
    .stream('lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => line.split(' '))
  words.to('all-words', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
  words
    .groupBy((_key, word) => word, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .count({ storeName: 'counts' })
    .toStream()
    .to('word-counts', { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  const description = builder.build().describe()
  const graph = topologyGraph(description)

  assert.deepEqual(
    graph.subtopologies.map((s) => s.id),
    description.subtopologies.map((s) => s.id)
  )
  assert.equal(graph.subtopologies.length, 2)
  assert.equal(graph.nodes.length, description.subtopologies.flatMap((s) => s.nodes).length)
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  for (const { from, to } of graph.edges) {
    const [a, b] = [byName.get(from)!, byName.get(to)!]
    assert.equal(a.subtopology, b.subtopology, `${from} -> ${to} stays in its sub-topology`)
    assert.ok(b.column > a.column, `${to} is right of ${from}`)
  }
  for (const sub of graph.subtopologies) {
    const nodes = graph.nodes.filter((n) => n.subtopology === sub.id)
    const places = new Set(nodes.map((n) => `${n.column}/${n.row}`))
    assert.equal(places.size, nodes.length, 'no two nodes share a place')
    assert.equal(sub.columns, Math.max(...nodes.map((n) => n.column)) + 1)
    assert.equal(sub.rows, Math.max(...nodes.map((n) => n.row)) + 1)
    assert.ok(nodes.filter((n) => n.kind === 'source').every((n) => n.column === 0))
  }
  const source = graph.nodes.find((n) => n.kind === 'source' && n.topics.includes('lines'))!
  assert.equal(source.column, 0)
  assert.ok(graph.nodes.some((n) => n.kind === 'sink' && n.topics[0] === 'all-words'))
  assert.ok(graph.nodes.some((n) => n.stores.includes('counts')))

  // The repartition topic: written by a sink of the first sub-topology, read by the source of the second.
  assert.equal(graph.links.length, 1)
  const [link] = graph.links
  assert.match(link!.topic, /repartition$/)
  assert.equal(byName.get(link!.from)!.kind, 'sink')
  assert.equal(byName.get(link!.to)!.kind, 'source')
  assert.notEqual(byName.get(link!.from)!.subtopology, byName.get(link!.to)!.subtopology)
})
