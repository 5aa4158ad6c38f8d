/**
 * The differential suite's catalogue: every case is a topology name (topologies.ts / Topologies.java), its
 * parameters, the record cache size, and seeded generated input. Both Kafka Streams' TopologyTestDriver and
 * Streamlane's run every case; their output records must be equal, or the difference is listed in differences.ts.
 */
import { type Random, seededRandom } from '../../src/autoscale/simulator/random.ts'
import type { Params } from './topologies.ts'

/** A record piped into an input topic, or a move of the driver's wall clock. */
export type InputEvent =
  | {
      readonly kind: 'pipe'
      readonly topic: string
      readonly key: string | null
      readonly value: string | null
      readonly timestamp: number
    }
  | { readonly kind: 'advance'; readonly ms: number }

export interface ConformanceCase {
  readonly id: string
  readonly topology: string
  readonly params: Params
  readonly cacheMaxBytes: number
  readonly events: readonly InputEvent[]
}

export const CACHE_ON = 10 * 1024 * 1024
export const CACHE_OFF = 0

const STATELESS = [
  'filter',
  'filterNot',
  'map',
  'mapValues',
  'flatMap',
  'flatMapValues',
  'selectKey',
  'peek',
  'split',
  'merge',
  'repartition',
  'process'
]
const STREAM_AGGREGATIONS = ['count', 'reduce', 'aggregate', 'groupBy-count', 'selectKey-groupByKey-count']
const TABLES = [
  'table-toStream',
  'table-filter',
  'table-filterNot',
  'table-filter-materialized',
  'table-mapValues',
  'table-mapValues-materialized',
  'table-groupBy-count',
  'table-filter-groupBy-count',
  'table-groupBy-reduce',
  'table-groupBy-aggregate',
  'table-unnamed-toStream',
  'table-unnamed-filter',
  'table-unnamed-groupBy-count'
]
/** Window kinds with the parameters they run with (two settings each: with grace, and none or a short one). */
const WINDOWS: Record<string, readonly Params[]> = {
  tumbling: [
    { size: 5000, grace: 2000 },
    { size: 3000, grace: 0 }
  ],
  hopping: [{ size: 5000, advance: 2000, grace: 1000 }],
  sliding: [
    { diff: 3000, grace: 1000 },
    { diff: 2000, grace: 0 }
  ],
  session: [
    { gap: 3000, grace: 2000 },
    { gap: 1000, grace: 0 }
  ]
}
const WINDOW_OPERATIONS = ['count', 'reduce', 'aggregate']
/** Joins of `in` with `in2` (a table or a stream), with their join windows. */
const STREAM_TABLE_JOINS = ['join-stream-table', 'join-stream-table-left', 'join-stream-table-rekeyed']
const TABLE_TABLE_JOINS = ['join-table-table', 'join-table-table-left', 'join-table-table-outer']
const STREAM_STREAM_JOINS = ['join-stream-stream', 'join-stream-stream-left', 'join-stream-stream-outer']
const FOREIGN_KEY_JOINS = ['join-fk', 'join-fk-left', 'join-fk-materialized', 'join-fk-left-materialized']
const JOIN_WINDOWS: readonly Params[] = [
  { diff: 2000, grace: 1000 },
  { diff: 1000, grace: 0 }
]

export interface Shape {
  /** Records per case. */
  readonly records: number
  readonly keys: readonly string[]
  readonly nullKeys: number
  readonly nullValues: number
  /** A second input topic (merge). */
  readonly topics: readonly string[]
}

const STREAM_SHAPE: Shape = { records: 160, keys: ['a', 'b', 'c'], nullKeys: 0.06, nullValues: 0.1, topics: ['in'] }
const JOIN_SHAPE: Shape = { ...STREAM_SHAPE, records: 200, topics: ['in', 'in2'] }
const TABLE_SHAPE: Shape = {
  records: 160,
  keys: ['a', 'b', 'c', 'd', 'e'],
  nullKeys: 0.03,
  nullValues: 0.2,
  topics: ['in']
}

/** Keys a-g on both tables: a left value names the right key of its first letter. */
const FOREIGN_KEY_SHAPE: Shape = {
  records: 200,
  keys: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
  nullKeys: 0.03,
  nullValues: 0.15,
  topics: ['in', 'in2']
}

/**
 * Seeded input: timestamps mostly move forward (by 0 to 1.5 s, so some repeat), some records are out of order within
 * a few seconds, some far later than any grace period; keys and values are sometimes null (tombstones for tables);
 * the wall clock moves now and then (commits, and punctuation in Kafka Streams' driver). The last record, a minute
 * later than the others, closes every window of the other keys.
 */
export function generateEvents(seed: number, shape: Shape): InputEvent[] {
  const random = seededRandom(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const events: InputEvent[] = []
  let time = Math.floor(random() * 1500)
  for (let i = 0; i < shape.records; i++) {
    const r = random()
    let timestamp: number
    if (r < 0.12)
      timestamp = Math.max(0, time - Math.floor(random() * 5000)) // out of order, mostly within grace
    else if (r < 0.17)
      timestamp = Math.max(0, time - 5000 - Math.floor(random() * 15000)) // late
    else if (r < 0.27)
      timestamp = time // repeated timestamp
    else {
      time += Math.floor(random() * 1500)
      timestamp = time
    }
    events.push({
      kind: 'pipe',
      topic: pick(shape.topics),
      key: random() < shape.nullKeys ? null : pick(shape.keys),
      value: random() < shape.nullValues ? null : word(random),
      timestamp
    })
    if (random() < 0.05) events.push({ kind: 'advance', ms: Math.floor(random() * 2000) })
  }
  // A last record far ahead in time closes every window of the other keys, so emit-final results are complete.
  events.push({ kind: 'pipe', topic: shape.topics[0]!, key: 'z', value: 'end', timestamp: time + 60_000 })
  return events
}

function word(random: Random): string {
  const length = 1 + Math.floor(random() * 4)
  let w = ''
  for (let i = 0; i < length; i++) w += 'abcdefgh'[Math.floor(random() * 8)]
  return w
}

function paramId(params: Params): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}${v}`)
    .join('-')
}

/** Every case of the catalogue. */
export function catalogue(): ConformanceCase[] {
  const cases: ConformanceCase[] = []
  let seed = 15
  const add = (topology: string, params: Params, cacheMaxBytes: number, shape: Shape) => {
    const cache = cacheMaxBytes === CACHE_OFF ? 'cache-off' : 'cache-on'
    const id = [topology, paramId(params), cache].filter((s) => s.length > 0).join('/')
    cases.push({ id, topology, params, cacheMaxBytes, events: generateEvents(seed++, shape) })
  }
  for (const topology of STATELESS) {
    add(topology, {}, CACHE_ON, topology === 'merge' ? { ...STREAM_SHAPE, topics: ['in', 'in2'] } : STREAM_SHAPE)
  }
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of STREAM_AGGREGATIONS) add(topology, {}, cache, STREAM_SHAPE)
    for (const topology of TABLES) add(topology, {}, cache, TABLE_SHAPE)
    for (const [kind, settings] of Object.entries(WINDOWS)) {
      for (const params of settings) {
        for (const op of WINDOW_OPERATIONS) {
          for (const suppress of [0, 1]) add(`${kind}-${op}`, { ...params, suppress }, cache, STREAM_SHAPE)
        }
      }
    }
  }
  // Joins come last, so adding them left the seeds (and so the inputs) of the cases above unchanged.
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of STREAM_TABLE_JOINS) add(topology, {}, cache, JOIN_SHAPE)
  }
  for (const topology of STREAM_STREAM_JOINS) {
    for (const params of JOIN_WINDOWS) add(topology, params, CACHE_ON, JOIN_SHAPE)
  }
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of TABLE_TABLE_JOINS) add(topology, {}, cache, { ...TABLE_SHAPE, topics: ['in', 'in2'] })
  }
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of ['stream-toTable', 'stream-toTable-rekeyed']) add(topology, {}, cache, TABLE_SHAPE)
  }
  add('stream-processValues', {}, CACHE_OFF, STREAM_SHAPE)
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of ['transformValues', 'transformValues-materialized']) add(topology, {}, cache, TABLE_SHAPE)
  }
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of ['cogroup', 'cogroup-rekeyed']) add(topology, {}, cache, JOIN_SHAPE)
  }
  // Foreign-key joins: left values name right keys a-g by their first letter ("h...": no foreign key), so updates
  // change foreign keys, and deletes on both sides retract results.
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of FOREIGN_KEY_JOINS) add(topology, {}, cache, FOREIGN_KEY_SHAPE)
  }
  // Stream-GlobalKTable joins: the stream's values name the global table's key by their first letter.
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of ['join-global', 'join-global-left']) add(topology, {}, cache, JOIN_SHAPE)
  }
  // Windowed cogroup: the windows of the windowed aggregations (each input keeps its own stream time).
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    add('cogroup-windowed-tumbling', { size: 5000, grace: 2000 }, cache, JOIN_SHAPE)
    add('cogroup-windowed-hopping', { size: 5000, advance: 2000, grace: 1000 }, cache, JOIN_SHAPE)
    add('cogroup-windowed-sliding', { diff: 3000, grace: 1000 }, cache, JOIN_SHAPE)
  }
  // Emit on window close (KIP-825): each window kind's settings, with and without the record cache.
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const [kind, settings] of Object.entries(WINDOWS)) {
      for (const params of settings) add(`${kind}-aggregate`, { ...params, emit: 1 }, cache, STREAM_SHAPE)
    }
    add('tumbling-count', { ...WINDOWS.tumbling![0]!, emit: 1 }, cache, STREAM_SHAPE)
  }
  // Suppress until a time limit (tables, with and without a bound that emits early; a windowed count).
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    for (const topology of ['table-suppress-time', 'table-suppress-time-bounded', 'table-unnamed-suppress-time']) {
      add(topology, {}, cache, TABLE_SHAPE)
    }
    add('tumbling-count', { ...WINDOWS.tumbling![0]!, suppress: 2 }, cache, STREAM_SHAPE)
  }
  // addGlobalStore: a global store filled by a processor of its own, read by a stream processor.
  add('global-store', {}, CACHE_ON, JOIN_SHAPE)
  // Session-windowed cogroup: sessions of both inputs merge in one store.
  for (const cache of [CACHE_ON, CACHE_OFF]) {
    add('cogroup-windowed-session', { gap: 3000, grace: 2000 }, cache, JOIN_SHAPE)
    add('cogroup-windowed-session', { gap: 1000, grace: 0 }, cache, JOIN_SHAPE)
  }
  return cases
}
