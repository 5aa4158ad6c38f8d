/**
 * Where Streamlane deliberately differs from Kafka Streams (docs/topology.md, "Where Streamlane differs from Kafka
 * Streams"). Each entry names the cases it can apply to and either
 *
 * - `normalize`s both outputs, removing what deliberately differs (then they must be equal record for record), or
 * - `explains` a first difference: it checks that the first differing record is exactly the listed behaviour. The
 *   case's state has then diverged on purpose and the records after it are not compared; other cases (the same
 *   topology with other settings) still cover them.
 */
import type { ConformanceCase } from './cases.ts'
import type { OutputRecord } from './compare.ts'

export type Side = 'kafka-streams' | 'streamlane'

export interface DifferenceContext {
  readonly c: ConformanceCase
  /** Index of the first differing record. */
  readonly index: number
  readonly kafkaStreams: readonly OutputRecord[]
  readonly streamlane: readonly OutputRecord[]
}

export interface DeliberateDifference {
  readonly name: string
  readonly why: string
  readonly appliesTo: (c: ConformanceCase) => boolean
  /** Applied to each side's records (`side` says whose) before the comparison. */
  readonly normalize?: (records: readonly OutputRecord[], side: Side, c: ConformanceCase) => OutputRecord[]
  readonly explains?: (context: DifferenceContext) => boolean
}

const suppressed = (c: ConformanceCase) => c.params.suppress === 1
const kind = (c: ConformanceCase) => c.topology.split('-')[0]

/** A session-windowed key: inner key bytes, end, start (Kafka Streams' SessionWindowedSerde). */
function session(r: OutputRecord | undefined): { key: string; start: number; end: number } | null {
  if (r?.key == null || r.key.length < 16) return null
  const k = r.key
  return {
    key: k.subarray(0, k.length - 16).toString('hex'),
    end: Number(k.readBigInt64BE(k.length - 16)),
    start: Number(k.readBigInt64BE(k.length - 8))
  }
}

/** The end of a windowed result's window: sessions carry it, time windows' ends are start + size. */
function windowEnd(r: OutputRecord, c: ConformanceCase): number {
  const key = r.key!
  if (kind(c) === 'session') return Number(key.readBigInt64BE(key.length - 16))
  return Number(key.readBigInt64BE(key.length - 8)) + (c.params.diff ?? c.params.size!)
}

/** The aggregation's stream time after input event `after`: the largest timestamp of a keyed record so far. */
function streamTimeAfter(c: ConformanceCase, after: number): number {
  let time = -1
  for (const e of c.events.slice(0, after + 1)) {
    if (e.kind === 'pipe' && e.key !== null) time = Math.max(time, e.timestamp)
  }
  return time
}

export const DELIBERATE_DIFFERENCES: readonly DeliberateDifference[] = [
  {
    name: 'emit-final emits a sliding window or session once, 1 ms of stream time later',
    why:
      "Kafka Streams' suppress emits a sliding window at end + grace and a session at end + gap + grace, while its " +
      'aggregation still accepts a record at exactly that time: the window is then emitted again (once per such ' +
      'record), or the session it grows into. Streamlane emits them once that is no longer possible, 1 ms later, so ' +
      'each result is final: its last result per window is what Kafka Streams emits last for it.',
    appliesTo: (c) => suppressed(c) && (kind(c) === 'sliding' || kind(c) === 'session'),
    // Compared per window, ignoring when (after which input) it was emitted and, for Kafka Streams, all but its last
    // emission. Streamlane's side keeps every emission, so a window it emitted twice still fails the comparison.
    // A window that closes exactly at the last stream time of the input is emitted only by Kafka Streams.
    normalize: (records, side, c) => {
      const sorted = records
        .map((r) => ({ ...r, after: -1, readAfter: r.readAfter ?? r.after }))
        .sort((a, b) => Buffer.compare(a.key ?? Buffer.alloc(0), b.key ?? Buffer.alloc(0)))
      if (side === 'streamlane') return sorted
      const lastStreamTime = streamTimeAfter(c, c.events.length - 1)
      const closesAfterEnd = (c.params.grace ?? 0) + (kind(c) === 'session' ? c.params.gap! : 0)
      return sorted.filter((r, i) => {
        const next = sorted[i + 1]
        const emittedAgain =
          next !== undefined && Buffer.compare(r.key ?? Buffer.alloc(0), next.key ?? Buffer.alloc(0)) === 0
        return !emittedAgain && windowEnd(r, c) + closesAfterEnd !== lastStreamTime
      })
    }
  },
  {
    name: 'a closed session is never merged into a new one',
    why:
      "Streamlane's session store forgets a session once it has closed (it ended before stream time - grace - gap). " +
      "Kafka Streams' store does too, but its record cache may still hold the session, and a record within the gap " +
      'of it and of an open session then merges the closed one (whose final result may have been emitted) into the ' +
      'new session.',
    appliesTo: (c) => (kind(c) === 'session' || c.topology === 'cogroup-windowed-session') && c.cacheMaxBytes > 0,
    explains: ({ c, index, kafkaStreams, streamlane }) => {
      const theirs = session(kafkaStreams[index])
      const ours = session(streamlane[index])
      if (theirs === null || ours === null || kafkaStreams[index]!.value === null) return false
      if (theirs.key !== ours.key || theirs.end !== ours.end || theirs.start >= ours.start) return false
      const read = kafkaStreams[index]!
      const closedBefore = streamTimeAfter(c, read.readAfter ?? read.after) - c.params.gap! - (c.params.grace ?? 0)
      return theirs.start < closedBefore
    }
  },
  {
    name: 'a window its store has expired is not updated from the record cache',
    why:
      'In a windowed cogroup each input keeps its own stream time, but the inputs share one window (or session) ' +
      'store, whose retention (size + grace) follows the largest time of all inputs: a window still open for one input may be ' +
      "expired in the store. Kafka Streams' store no longer returns it either, but its record cache may still hold " +
      'it, and then the record updates the expired window (one more result). Streamlane does not depend on what the ' +
      'cache holds: the window is gone, as it is in Kafka Streams without a cache.',
    appliesTo: (c) => c.topology.startsWith('cogroup-windowed') && c.cacheMaxBytes > 0,
    explains: ({ c, index, kafkaStreams, streamlane }) => {
      const theirs = kafkaStreams[index]
      const next = kafkaStreams[index + 1]
      const ours = streamlane[index]
      if (theirs?.key == null || next === undefined || ours === undefined) return false
      const sameRecord = (a: OutputRecord, b: OutputRecord) =>
        Buffer.compare(a.key ?? Buffer.alloc(0), b.key ?? Buffer.alloc(0)) === 0 &&
        Buffer.compare(a.value ?? Buffer.alloc(0), b.value ?? Buffer.alloc(0)) === 0
      // Kafka Streams emitted one more record, for a window older than the store's retention; the rest goes on.
      if (!sameRecord(next, ours)) return false
      const storeTime = streamTimeAfter(c, theirs.readAfter ?? theirs.after)
      const grace = c.params.grace ?? 0
      const closed = session(theirs)
      // A session's store keeps it gap + grace after its end; a window's, size (sliding: 2 x difference) + grace.
      if (c.topology === 'cogroup-windowed-session')
        return closed !== null && closed.end < storeTime - c.params.gap! - grace
      const start = Number(theirs.key.readBigInt64BE(theirs.key.length - 8))
      const retention = c.params.diff === undefined ? c.params.size! : 2 * c.params.diff
      return start < storeTime - retention - grace
    }
  }
]

/** The deliberate differences that apply to a case. */
export function differencesFor(c: ConformanceCase): DeliberateDifference[] {
  return DELIBERATE_DIFFERENCES.filter((d) => d.appliesTo(c))
}
