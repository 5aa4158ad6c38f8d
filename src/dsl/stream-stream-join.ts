import { bytesSerde } from '../serde/index.ts'
import { keyValueStoreBuilder, timestampedWindowStoreBuilder } from '../state/index.ts'
import { TopologyError } from '../topology/index.ts'
import { addDslStore, requireSerde } from './dsl-stores.ts'
import type { JoinWindows } from './join-windows.ts'
import type { StreamJoined, ValueJoiner } from './joined.ts'
import { KStream } from './kstream.ts'
import { passThrough } from './stateless-processors.ts'
import { joinTimeTrackers, joinWindowProcessor, streamStreamJoinProcessor } from './stream-stream-join-processor.ts'

export type StreamJoinKind = 'inner' | 'left' | 'outer'

/**
 * Adds a windowed stream-stream join with Kafka Streams' layout: each side goes through a node that stores its
 * records in its own window store (`<join node>-store`, retention before + after + grace, duplicates kept,
 * changelogged as `<app.id>-<store>-changelog` unless `logging: false`), then through a join node that looks up
 * the other side's store; the two join nodes' results merge into one stream. A left or outer join adds the shared
 * store where unmatched records wait for their window to close. A side whose key changed since it was last
 * partitioned is repartitioned first; both sides' topics must be co-partitioned (checked at start).
 */
export function streamStreamJoin<K, VL, VR, VOut>(
  left: KStream<K, VL>,
  right: KStream<K, VR>,
  joiner: ValueJoiner<K, VL, VR | null, VOut> | ValueJoiner<K, VL | null, VR | null, VOut>,
  windows: JoinWindows,
  kind: StreamJoinKind,
  options: StreamJoined<K, VL, VR>
): KStream<K, VOut> {
  const dsl = left.dsl
  if (right.dsl !== dsl) throw new TopologyError('join(): both streams need the same StreamsBuilder')
  if ((left as unknown) === right) {
    throw new TopologyError('join(): a stream cannot be joined with itself here; join it with a copy (e.g. mapValues)')
  }
  const where = `${kind === 'inner' ? 'join' : kind === 'left' ? 'leftJoin' : 'outerJoin'}()`
  const option = 'StreamJoined'
  const keySerde = requireSerde(options.keySerde, left.serdes.keySerde ?? right.serdes.keySerde, 'key', where, option)
  const leftValueSerde = requireSerde(
    options.valueSerde,
    left.serdes.valueSerde,
    'value',
    where,
    `${option}.valueSerde`
  )
  const rightValueSerde = requireSerde(
    options.otherValueSerde,
    right.serdes.valueSerde,
    'value',
    `${where} (the other stream)`,
    `${option}.otherValueSerde`
  )
  const base = options.name
  const repartitioned = <V>(
    stream: KStream<K, V>,
    suffix: string,
    valueSerde: typeof leftValueSerde | typeof rightValueSerde
  ) =>
    stream.repartitionRequired
      ? stream.repartition({
          name: `${base ?? dsl.newName('KSTREAM-JOIN')}-${suffix}`,
          keySerde,
          valueSerde: valueSerde as never
        })
      : stream
  const leftInput = repartitioned(left, 'left', leftValueSerde)
  const rightInput = repartitioned(right, 'right', rightValueSerde)

  const named = (suffix: string, prefix: string) => (base === undefined ? dsl.newName(prefix) : `${base}${suffix}`)
  const thisWindowed = named('-this-windowed', 'KSTREAM-WINDOWED')
  const otherWindowed = named('-other-windowed', 'KSTREAM-WINDOWED')
  const joinThis = named(
    kind === 'outer' ? '-outer-this-join' : '-this-join',
    kind === 'outer' ? 'KSTREAM-OUTERTHIS' : 'KSTREAM-JOINTHIS'
  )
  const joinOther = named(
    kind === 'inner' ? '-other-join' : '-outer-other-join',
    kind === 'inner' ? 'KSTREAM-JOINOTHER' : 'KSTREAM-OUTEROTHER'
  )
  const merge = named('-merge', 'KSTREAM-MERGE')
  const storeBase = options.storeName
  const thisStore = storeBase === undefined ? `${joinThis}-store` : `${storeBase}-this-join-store`
  const otherStore = storeBase === undefined ? `${joinOther}-store` : `${storeBase}-other-join-store`
  const outerStore =
    kind === 'inner'
      ? null
      : storeBase === undefined
        ? `${joinThis}-shared-join-store`
        : `${storeBase}-outer-shared-join-store`

  const common = {
    ...(options.persistent === undefined ? {} : { persistent: options.persistent }),
    ...(options.logging === undefined ? {} : { logging: options.logging })
  }
  const windowSizeMs = Math.max(1, windows.sizeMs)
  const retentionMs = Math.max(windowSizeMs, windows.sizeMs + windows.graceMs)
  const windowStore = <V>(name: string, valueSerde: typeof leftValueSerde | typeof rightValueSerde) =>
    timestampedWindowStoreBuilder<K, V>({
      name,
      keySerde,
      valueSerde: valueSerde as never,
      windowSizeMs,
      retentionMs,
      retainDuplicates: true,
      ...common
    })

  const topology = dsl.topology
  topology.addProcessor(thisWindowed, joinWindowProcessor<K, VL>(thisStore), leftInput.nodeName)
  topology.addProcessor(otherWindowed, joinWindowProcessor<K, VR>(otherStore), rightInput.nodeName)
  const tracker = joinTimeTrackers()
  const side = {
    otherStoreName: '',
    outerStoreName: outerStore,
    windows,
    joiner: joiner as ValueJoiner<K, VL | null, VR | null, VOut>,
    keySerde,
    leftValueSerde,
    rightValueSerde,
    tracker
  }
  topology.addProcessor(
    joinThis,
    streamStreamJoinProcessor({ ...side, leftSide: true, outer: kind !== 'inner', otherStoreName: otherStore }),
    thisWindowed
  )
  topology.addProcessor(
    joinOther,
    streamStreamJoinProcessor({ ...side, leftSide: false, outer: kind === 'outer', otherStoreName: thisStore }),
    otherWindowed
  )
  topology.addProcessor(merge, passThrough<K, VOut>(), joinThis, joinOther)
  addDslStore(dsl, windowStore<VL>(thisStore, leftValueSerde), thisWindowed, joinOther)
  addDslStore(dsl, windowStore<VR>(otherStore, rightValueSerde), otherWindowed, joinThis)
  if (outerStore !== null) {
    const shared = keyValueStoreBuilder({
      name: outerStore,
      keySerde: bytesSerde(),
      valueSerde: bytesSerde(),
      ...common
    })
    addDslStore(dsl, shared, joinThis, joinOther)
  }
  return new KStream<K, VOut>(dsl, merge, { keySerde }, false)
}
