/**
 * The differential suite's join topologies ("join-...") and stream-table conversions ("stream-toTable...",
 * "stream-processValues"), built as
 * conformance/kafka-streams/src/main/java/dev/streamlane/conformance/JoinTopologies.java builds them with Kafka
 * Streams: the stream `in` joined with `in2` read as a table or as a stream; the joiner concatenates "value+other"
 * (a missing side shows as "null", as Java's string concatenation does).
 */
import { JoinWindows, SessionWindows, SlidingWindows, type StreamsBuilder, TimeWindows } from '../../src/dsl/index.ts'
import { sessionWindowedSerde, timeWindowedSerde } from '../../src/serde/index.ts'
import { longSerde, stringSerde } from '../../src/serde/primitive-serdes.ts'
import { type KeyValueStore, Stores } from '../../src/state/index.ts'
import type { ProcessorContext } from '../../src/topology/processor.ts'
import type { StreamRecord } from '../../src/topology/record.ts'
import type { Params } from './topologies.ts'

const S = stringSerde()
const strings = { keySerde: S, valueSerde: S }
type Value = string | null
const j = (v: Value, o: Value): string => `${v}+${o}`
const first = (v: Value): string | null => (v === null || v.length === 0 ? null : v.slice(0, 1))

export function joinTopology(b: StreamsBuilder, name: string, p: Params): unknown {
  if (name.startsWith('join-table-table')) return tableTable(b, name)
  if (name.startsWith('join-fk')) return foreignKey(b, name)
  if (name.startsWith('cogroup')) {
    const g1 = b.stream<string, Value>('in', strings).groupByKey()
    const in2 = b.stream<string, Value>('in2', strings)
    const g2 =
      name === 'cogroup-rekeyed'
        ? in2.groupBy((_k, v) => first(v) as string, { keySerde: S, valueSerde: S })
        : in2.groupByKey()
    const cogrouped = g1.cogroup<string>((_k, v, a) => `${a}|${v}`).cogroup(g2, (_k, v, a) => `${a}/${v}`)
    if (name === 'cogroup-windowed-session') {
      return cogrouped
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(p.gap!, p.grace ?? 0))
        .aggregate(
          () => '',
          (_k, a1, a2) => `${a1}&${a2}`,
          { keySerde: S, valueSerde: S }
        )
        .toStream()
        .to('out', { keySerde: sessionWindowedSerde(S), valueSerde: S })
    }
    if (name.startsWith('cogroup-windowed')) {
      const sliding = name.endsWith('sliding')
      const size = sliding ? p.diff! : p.size!
      let windows: TimeWindows | SlidingWindows = sliding
        ? SlidingWindows.ofTimeDifferenceAndGrace(size, p.grace ?? 0)
        : TimeWindows.ofSizeAndGrace(size, p.grace ?? 0)
      if (name.endsWith('hopping')) windows = (windows as TimeWindows).advanceBy(p.advance!)
      return cogrouped
        .windowedBy(windows)
        .aggregate(() => '', { keySerde: S, valueSerde: S })
        .toStream()
        .to('out', { keySerde: timeWindowedSerde(S, size), valueSerde: S })
    }
    return cogrouped
      .aggregate(() => '', { keySerde: S, valueSerde: S })
      .toStream()
      .to('out', strings)
  }
  if (name.startsWith('transformValues')) {
    const table = b.table<string, string>('in', strings)
    // Stateful on purpose (a call counter per task), and called for deletes too, as Kafka Streams' transformer is.
    const upper = () => {
      let calls = 0
      return {
        transform: (_key: string, value: string | null) => {
          calls++
          return value === null ? (calls % 2 === 0 ? null : 'gone') : `${value.toUpperCase()}${calls % 3}`
        }
      }
    }
    const transformed =
      name === 'transformValues'
        ? table.transformValues(upper)
        : table.transformValues(upper, { storeName: 'tv', keySerde: S, valueSerde: S })
    return transformed.toStream().to('out', strings)
  }
  if (name === 'stream-processValues') {
    return b
      .stream<string, Value>('in', strings)
      .processValues<string>(() => {
        let context: ProcessorContext<string, string>
        return {
          init: (c) => {
            context = c
          },
          process: (r) =>
            r.value !== null && r.value.length > 2 ? undefined : context.forward({ ...r, value: `${r.value}!` })
        }
      })
      .groupByKey()
      .count()
      .toStream()
      .to('out', { keySerde: S, valueSerde: longSerde() })
  }
  if (name === 'global-store') return globalStore(b)
  if (name === 'stream-toTable') return b.stream<string, string>('in', strings).toTable().toStream().to('out', strings)
  if (name === 'stream-toTable-rekeyed') {
    return b
      .stream<string, string>('in', strings)
      .selectKey((_k, v) => first(v) as string)
      .toTable({ storeName: 'tt', keySerde: S, valueSerde: S })
      .toStream()
      .to('out', strings)
  }
  const inp = b.stream<string, Value>('in', strings)
  const table = () => b.table<string, string>('in2', strings)
  const other = () => b.stream<string, string>('in2', strings)
  const windows = () => JoinWindows.ofTimeDifferenceAndGrace(p.diff!, p.grace!)
  const serdes = { keySerde: S, valueSerde: S, otherValueSerde: S }
  switch (name) {
    case 'join-stream-table':
      return inp.join(table(), j).to('out', strings)
    case 'join-stream-table-left':
      return inp.leftJoin(table(), j).to('out', strings)
    case 'join-stream-table-rekeyed':
      return inp
        .selectKey((_k, v) => first(v) as string)
        .leftJoin(table(), j, { keySerde: S, valueSerde: S })
        .to('out', strings)
    case 'join-global':
      return inp.join(b.globalTable<string, string>('in2', strings), (_k, v) => first(v), j).to('out', strings)
    case 'join-global-left':
      return inp.leftJoin(b.globalTable<string, string>('in2', strings), (_k, v) => first(v), j).to('out', strings)
    case 'join-stream-stream':
      return inp.join(other(), j, windows(), serdes).to('out', strings)
    case 'join-stream-stream-left':
      return inp.leftJoin(other(), j, windows(), serdes).to('out', strings)
    case 'join-stream-stream-outer':
      return inp.outerJoin(other(), j, windows(), serdes).to('out', strings)
    default:
      throw new Error(`unknown topology ${name}`)
  }
}

function tableTable(b: StreamsBuilder, name: string): unknown {
  const left = b.table<string, string>('in', strings)
  const right = b.table<string, string>('in2', strings)
  switch (name) {
    case 'join-table-table':
      return left.join(right, j).toStream().to('out', strings)
    case 'join-table-table-left':
      return left.leftJoin(right, j).toStream().to('out', strings)
    case 'join-table-table-outer':
      return left.outerJoin(right, j).toStream().to('out', strings)
    default:
      throw new Error(`unknown topology ${name}`)
  }
}

/** The foreign key of a value: its first letter, none for a value starting with "h". */
const foreignKeyOf = (v: string): string | null => (v.length === 0 || v.startsWith('h') ? null : v.slice(0, 1))

/** Foreign-key joins: table `in` joined to table `in2` on the first letter of its values. */
function foreignKey(b: StreamsBuilder, name: string): unknown {
  const left = b.table<string, string>('in', strings)
  const right = b.table<string, string>('in2', strings)
  const fk = { storeName: 'fk', keySerde: S, valueSerde: S }
  switch (name) {
    case 'join-fk':
      return left.join(right, foreignKeyOf, j).toStream().to('out', strings)
    case 'join-fk-left':
      return left.leftJoin(right, foreignKeyOf, j).toStream().to('out', strings)
    case 'join-fk-materialized':
      return left.join(right, foreignKeyOf, j, {}, fk).toStream().to('out', strings)
    case 'join-fk-left-materialized':
      return left.leftJoin(right, foreignKeyOf, j, {}, fk).toStream().to('out', strings)
    default:
      throw new Error(`unknown topology ${name}`)
  }
}

/** A global store of its own: its processor keeps the upper-cased values of in2; `in` reads it by first letter. */
function globalStore(b: StreamsBuilder): unknown {
  const inp = b.stream<string, Value>('in', strings)
  const builder = Stores.keyValueStoreBuilder({
    name: 'g',
    keySerde: S,
    valueSerde: S,
    persistent: false,
    logging: false
  })
  b.addGlobalStore(builder, 'in2', strings, () => {
    let store: KeyValueStore<string, string>
    return {
      init(context) {
        store = context.getStateStore('g')
      },
      process(r: StreamRecord<string | null, string | null>) {
        if (r.key === null) return
        if (r.value === null) store.delete(r.key)
        else store.put(r.key, r.value.toUpperCase())
      }
    }
  })
  return inp
    .process<string, string>(() => {
      let context: ProcessorContext<string, string>
      return {
        init(c) {
          context = c
        },
        process(r) {
          const f = first(r.value)
          const found = f === null ? null : context.getStateStore<KeyValueStore<string, string>>('g').get(f)
          return context.forward({ ...r, value: `${r.value}+${found}` })
        }
      }
    })
    .to('out', strings)
}
