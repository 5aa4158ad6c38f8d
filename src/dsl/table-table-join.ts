import { TopologyError } from '../topology/index.ts'
import type { ValueJoiner } from './joined.ts'
import { KTable } from './ktable.ts'
import type { OldValues } from './old-values.ts'
import { passThrough } from './stateless-processors.ts'
import { type TableJoinSide, tableTableJoinProcessor } from './table-table-join-processor.ts'

export type TableJoinKind = 'inner' | 'left' | 'outer'

const PREFIXES: Record<TableJoinKind, readonly [string, string]> = {
  inner: ['KTABLE-JOINTHIS', 'KTABLE-JOINOTHER'],
  left: ['KTABLE-LEFTTHIS', 'KTABLE-LEFTOTHER'],
  outer: ['KTABLE-OUTERTHIS', 'KTABLE-OUTEROTHER']
}

/**
 * Adds a table-table join (Kafka Streams' layout): a join node per side, each reading the other table's store, and
 * a merge node forwarding both sides' changes. Both tables must be materialized (an unnamed `builder.table()` is
 * materialized for it, as Kafka Streams does) and, sharing one task, co-partitioned. The result is a table whose
 * changes carry old values when something downstream asks for them.
 */
export function tableTableJoin<K, V, VO, VR>(
  left: KTable<K, V>,
  right: KTable<K, VO>,
  joiner: ValueJoiner<K, V | null, VO | null, VR>,
  kind: TableJoinKind,
  name: string | undefined
): KTable<K, VR> {
  const dsl = left.dsl
  if (right.dsl !== dsl) throw new TopologyError('join(): both tables need the same StreamsBuilder')
  for (const table of [left, right]) {
    if (table.queryableStoreName === null || table.windowInfo !== null) {
      throw new TopologyError(
        'a table-table join needs both tables materialized (a builder.table(), an aggregation, or a filter / ' +
          'mapValues given Materialized.as(storeName)); windowed tables cannot be joined'
      )
    }
    // Materializes an unnamed builder.table(), whose updates then go through its store (and cache) first.
    table.oldValues.enable(true)
  }
  let sendOld = false
  const oldValues: OldValues = {
    get enabled() {
      return sendOld
    },
    enable() {
      sendOld = true
      return true
    }
  }
  const [thisPrefix, otherPrefix] = PREFIXES[kind]
  const thisName = name === undefined ? dsl.newName(thisPrefix) : `${name}-join-this`
  const otherName = name === undefined ? dsl.newName(otherPrefix) : `${name}-join-other`
  const mergeName = name === undefined ? dsl.newName('KTABLE-MERGE') : name
  const thisSide: TableJoinSide = kind === 'inner' ? 'inner' : kind === 'left' ? 'left' : 'outer'
  const otherSide: TableJoinSide = kind === 'inner' ? 'inner' : kind === 'left' ? 'right' : 'outer'
  const sends = () => sendOld
  const topology = dsl.topology
  topology.addProcessor(
    thisName,
    tableTableJoinProcessor<K, V, VO, VR>(thisSide, right.queryableStoreName!, joiner, sends),
    left.nodeName
  )
  topology.addProcessor(
    otherName,
    tableTableJoinProcessor<K, VO, V, VR>(otherSide, left.queryableStoreName!, (r, l, k) => joiner(l, r, k), sends),
    right.nodeName
  )
  topology.connectProcessorAndStateStores([thisName, right.queryableStoreName!], [otherName, left.queryableStoreName!])
  topology.addProcessor(mergeName, passThrough(), thisName, otherName)
  return new KTable<K, VR>(
    dsl,
    mergeName,
    { keySerde: left.serdes.keySerde ?? right.serdes.keySerde },
    null,
    null,
    oldValues
  )
}
