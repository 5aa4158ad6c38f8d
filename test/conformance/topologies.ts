/**
 * The differential suite's topologies, built with Streamlane's DSL exactly as
 * conformance/kafka-streams/src/main/java/dev/streamlane/conformance/Topologies.java builds them with Kafka Streams.
 * Inputs are topics `in` (and `in2`) of string keys and values; results go to `out` (split: `out-one`, `out-two`,
 * `out-other`). "even" = a non-null value of even length; the group of a value is its first character; aggregates
 * concatenate, so a null value passed to an aggregator shows as "null", as in Java.
 */

import type { KGroupedStream, KStream, KTable, Windowed } from '../../src/dsl/index.ts'
import {
  EmitStrategy,
  Materialized,
  SessionWindows,
  SlidingWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows
} from '../../src/dsl/index.ts'
import { Headers } from '../../src/serde/headers.ts'
import { longSerde, stringSerde } from '../../src/serde/primitive-serdes.ts'
import type { Serde } from '../../src/serde/serde.ts'
import { sessionWindowedSerde, timeWindowedSerde } from '../../src/serde/windowed-serdes.ts'
import type { Processor, ProcessorContext } from '../../src/topology/processor.ts'
import type { Topology } from '../../src/topology/topology.ts'
import { joinTopology } from './join-topologies.ts'

export type Params = Readonly<Record<string, number>>

const S = stringSerde()
const L = longSerde()
const strings = { keySerde: S, valueSerde: S }

const even = (v: string | null): boolean => v !== null && v.length % 2 === 0
const first = (v: string | null): string | null => (v === null || v.length === 0 ? null : v.slice(0, 1))

/** Topic names of a windowed topology; the driver's cases use `in` and `out`, a test on the broker unique ones. */
export interface WindowedTopics {
  readonly input: string
  readonly output: string
}

export function buildTopology(
  name: string,
  params: Params,
  topics: WindowedTopics = { input: 'in', output: 'out' }
): Topology {
  const b = new StreamsBuilder()
  if (/^(join-|stream-toTable|stream-processValues|transformValues|cogroup|global-store)/.test(name)) {
    joinTopology(b, name, params)
  } else if (name.startsWith('table-')) table(b, name)
  else if (/^(tumbling|hopping|sliding|session)-/.test(name)) windowed(b, name, params, topics)
  else stream(b, name)
  return b.build()
}

/**
 * The "process" topology's processor: forwards each record with its value marked, counts records, and on punctuation
 * forwards the count so far: every 1000 ms of wall-clock time (key "wall") and 2000 ms of stream time (key "stream"),
 * stamped with the punctuation time.
 */
function ticker(): Processor<string | null, string | null, string, string | null> {
  let seen = 0
  let context: ProcessorContext<string, string | null>
  return {
    init(c) {
      context = c
      c.schedule(1000, 'wall-clock', (now) =>
        context.forward({ key: 'wall', value: String(seen), timestamp: now, headers: Headers.empty })
      )
      c.schedule(2000, 'stream-time', (now) =>
        context.forward({ key: 'stream', value: String(seen), timestamp: now, headers: Headers.empty })
      )
    },
    process(record) {
      seen++
      return context.forward({ ...record, value: `${record.value}#${seen}` } as never)
    }
  }
}

function input(b: StreamsBuilder): KStream<string, string | null> {
  return b.stream<string, string | null>('in', strings)
}

function stream(b: StreamsBuilder, name: string): unknown {
  const inp = input(b)
  switch (name) {
    case 'filter':
      return inp.filter((_k, v) => even(v)).to('out')
    case 'filterNot':
      return inp.filterNot((_k, v) => even(v)).to('out')
    case 'map':
      return inp.map((k, v) => [v, k] as const).to('out', strings)
    case 'mapValues':
      return inp.mapValues((v) => (v === null ? null : v.toUpperCase())).to('out', strings)
    case 'flatMap':
      return inp
        .flatMap((k, v): (readonly [string | null, string | null])[] =>
          v === null
            ? []
            : [
                [k, v],
                [v, k]
              ]
        )
        .to('out', strings)
    case 'flatMapValues':
      return inp.flatMapValues((v) => (v === null ? [] : [...v])).to('out', strings)
    case 'selectKey':
      return inp.selectKey((_k, v) => first(v)).to('out', strings)
    case 'peek':
      return inp.peek(() => {}).to('out')
    case 'split': {
      const branches = inp
        .split({ name: 's-' })
        .branch((_k, v) => v !== null && v.length === 1, 'one')
        .branch((_k, v) => v !== null && v.length === 2, 'two')
        .defaultBranch('other')
      branches['s-one'].to('out-one')
      branches['s-two'].to('out-two')
      branches['s-other'].to('out-other')
      return
    }
    case 'merge':
      return inp.merge(b.stream<string, string | null>('in2', strings)).to('out')
    case 'repartition':
      return inp
        .selectKey((_k, v) => first(v))
        .repartition({ name: 'rp', keySerde: S, valueSerde: S })
        .mapValues((v) => `${v}!`)
        .to('out', strings)
    case 'count':
      return inp.groupByKey().count().toStream().to('out', { keySerde: S, valueSerde: L })
    case 'reduce':
      return inp
        .groupByKey()
        .reduce((a, v) => `${a}+${v}`)
        .toStream()
        .to('out', strings)
    case 'aggregate':
      return inp
        .groupByKey()
        .aggregate(
          () => '',
          (_k, v, a) => `${a}|${v}`,
          Materialized.with(S, S)
        )
        .toStream()
        .to('out', strings)
    case 'selectKey-groupByKey-count':
      return inp
        .selectKey((_k, v) => first(v))
        .groupByKey({ keySerde: S, valueSerde: S })
        .count()
        .toStream()
        .to('out', { keySerde: S, valueSerde: L })
    case 'process':
      return inp.process(ticker).to('out', strings)
    case 'groupBy-count':
      return inp
        .groupBy((_k, v) => first(v), { keySerde: S, valueSerde: S })
        .count()
        .toStream()
        .to('out', { keySerde: S, valueSerde: L })
    default:
      throw new Error(`unknown topology ${name}`)
  }
}

function windowed(b: StreamsBuilder, name: string, p: Params, topics: WindowedTopics): void {
  const grouped: KGroupedStream<string, string | null> = b
    .stream<string, string | null>(topics.input, strings)
    .groupByKey()
  const [kind, op] = name.split('-', 2) as [string, string]
  const grace = p.grace ?? 0
  let table: KTable<Windowed<string>, never>
  let keySerde: Serde<Windowed<string>>
  if (kind === 'session') {
    const w = grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(p.gap!, grace))
    if (p.emit === 1) w.emitStrategy(EmitStrategy.onWindowClose())
    keySerde = sessionWindowedSerde(S)
    if (op === 'count') table = w.count() as never
    else if (op === 'reduce') table = w.reduce((a, v) => `${a}+${v}`) as never
    else if (op === 'aggregate')
      table = w.aggregate(
        () => '',
        (_k, v, a) => `${a}|${v}`,
        (_k, a1, a2) => `${a1}&${a2}`,
        Materialized.with(S, S)
      ) as never
    else throw new Error(`unknown topology ${name}`)
  } else {
    let size: number
    let windows: TimeWindows | SlidingWindows
    if (kind === 'sliding') {
      size = p.diff!
      windows = SlidingWindows.ofTimeDifferenceAndGrace(size, grace)
    } else {
      size = p.size!
      windows = TimeWindows.ofSizeAndGrace(size, grace)
      if (kind === 'hopping') windows = windows.advanceBy(p.advance!)
    }
    const w = grouped.windowedBy(windows)
    if (p.emit === 1) w.emitStrategy(EmitStrategy.onWindowClose())
    keySerde = timeWindowedSerde(S, size)
    if (op === 'count') table = w.count() as never
    else if (op === 'reduce') table = w.reduce((a, v) => `${a}+${v}`) as never
    else if (op === 'aggregate')
      table = w.aggregate(
        () => '',
        (_k, v, a) => `${a}|${v}`,
        Materialized.with(S, S)
      ) as never
    else throw new Error(`unknown topology ${name}`)
  }
  const result =
    p.suppress === 1
      ? table.suppress(Suppressed.untilWindowCloses())
      : p.suppress === 2
        ? table.suppress(Suppressed.untilTimeLimit(1000))
        : table
  result.toStream().to(topics.output, { keySerde, valueSerde: (op === 'count' ? L : S) as never })
}

function table(b: StreamsBuilder, name: string): unknown {
  const counts = { keySerde: S, valueSerde: L }
  const byFirst = (_k: string, v: string) => [first(v) as string, v] as const
  if (name.startsWith('table-unnamed-')) {
    // A table whose store is not named: Kafka Streams materializes it only when an operation downstream needs it.
    const u = b.table<string, string>('in', strings)
    if (name === 'table-unnamed-toStream') return u.toStream().to('out')
    if (name === 'table-unnamed-filter')
      return u
        .filter((_k, v) => even(v))
        .toStream()
        .to('out')
    if (name === 'table-unnamed-groupBy-count') return u.groupBy(byFirst, strings).count().toStream().to('out', counts)
    if (name === 'table-unnamed-suppress-time')
      return u.suppress(Suppressed.untilTimeLimit(2000)).toStream().to('out', strings)
    throw new Error(`unknown topology ${name}`)
  }
  const t = b.table<string, string>('in', strings, Materialized.as('t'))
  switch (name) {
    case 'table-toStream':
      return t.toStream().to('out')
    case 'table-filter':
      return t
        .filter((_k, v) => even(v))
        .toStream()
        .to('out')
    case 'table-filterNot':
      return t
        .filterNot((_k, v) => even(v))
        .toStream()
        .to('out')
    case 'table-filter-materialized':
      return t
        .filter((_k, v) => even(v), Materialized.as('f'))
        .toStream()
        .to('out')
    case 'table-mapValues':
      return t
        .mapValues((v) => v.toUpperCase())
        .toStream()
        .to('out', strings)
    case 'table-mapValues-materialized':
      return t
        .mapValues((v) => v.toUpperCase(), Materialized.as('m', { keySerde: S, valueSerde: S }))
        .toStream()
        .to('out', strings)
    case 'table-groupBy-count':
      return t.groupBy(byFirst, strings).count().toStream().to('out', counts)
    case 'table-suppress-time':
      return t.suppress(Suppressed.untilTimeLimit(2000)).toStream().to('out', strings)
    case 'table-suppress-time-bounded':
      return t
        .suppress(Suppressed.untilTimeLimit(3000, { maxRecords: 2 }))
        .toStream()
        .to('out', strings)
    case 'table-filter-groupBy-count':
      return t
        .filter((_k, v) => even(v))
        .groupBy(byFirst, strings)
        .count()
        .toStream()
        .to('out', counts)
    case 'table-groupBy-reduce':
      return t
        .groupBy(byFirst, strings)
        .reduce(
          (a, v) => `${a}+${v}`,
          (a, v) => `${a}-${v}`
        )
        .toStream()
        .to('out', strings)
    case 'table-groupBy-aggregate':
      return t
        .groupBy(byFirst, strings)
        .aggregate(
          () => '',
          (_k, v, a) => `${a}+${v}`,
          (_k, v, a) => `${a}-${v}`,
          Materialized.with(S, S)
        )
        .toStream()
        .to('out', strings)
    default:
      throw new Error(`unknown topology ${name}`)
  }
}
