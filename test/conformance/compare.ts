/**
 * Compares the output of one case on both sides record for record (topic, key bytes, value bytes, timestamp, and the
 * input event after which it appeared) and describes the first difference with the input that led to it.
 */
import type { ConformanceCase, InputEvent } from './cases.ts'

export interface OutputRecord {
  /** Index of the input event after which the record was read (-1 when a normalization left it out). */
  readonly after: number
  /** The record's `after` before a normalization cleared it. */
  readonly readAfter?: number
  readonly topic: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
}

export interface CaseOutput {
  readonly records: readonly OutputRecord[]
  error: string | null
  done: boolean
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b)
}

export function sameRecord(a: OutputRecord, b: OutputRecord): boolean {
  return (
    a.after === b.after &&
    a.topic === b.topic &&
    a.timestamp === b.timestamp &&
    sameBytes(a.key, b.key) &&
    sameBytes(a.value, b.value)
  )
}

/** Index of the first record that differs (or that one side lacks), or -1 when the outputs are equal. */
export function firstDifference(expected: readonly OutputRecord[], actual: readonly OutputRecord[]): number {
  const n = Math.max(expected.length, actual.length)
  for (let i = 0; i < n; i++) {
    const e = expected[i]
    const a = actual[i]
    if (e === undefined || a === undefined || !sameRecord(e, a)) return i
  }
  return -1
}

/** Readable bytes: text when printable, else hex; windowed keys end in 8 or 16 bytes of window times. */
function show(bytes: Buffer | null): string {
  if (bytes === null) return 'null'
  const text = bytes.toString('utf8')
  if (/^[\x20-\x7e]*$/.test(text)) return JSON.stringify(text)
  if (bytes.length === 8) return `long ${bytes.readBigInt64BE(0)}`
  if (bytes.length > 16 && /^[\x20-\x7e]+$/.test(bytes.subarray(0, bytes.length - 16).toString())) {
    const key = bytes.subarray(0, bytes.length - 16).toString()
    return `session ${JSON.stringify(key)}@${bytes.readBigInt64BE(bytes.length - 8)}-${bytes.readBigInt64BE(bytes.length - 16)}`
  }
  if (bytes.length > 8 && /^[\x20-\x7e]+$/.test(bytes.subarray(0, bytes.length - 8).toString())) {
    return `window ${JSON.stringify(bytes.subarray(0, bytes.length - 8).toString())}@${bytes.readBigInt64BE(bytes.length - 8)}`
  }
  return `0x${bytes.toString('hex')}`
}

export function showRecord(r: OutputRecord | undefined): string {
  if (r === undefined) return '(none)'
  return `${r.topic} ${show(r.key)} = ${show(r.value)} @${r.timestamp} (after input #${r.after})`
}

function showEvent(e: InputEvent, index: number): string {
  return e.kind === 'pipe'
    ? `#${index} ${e.topic} ${JSON.stringify(e.key)} = ${JSON.stringify(e.value)} @${e.timestamp}`
    : `#${index} advance wall clock ${e.ms} ms`
}

/** A report of the first difference: a few records around it on both sides and the inputs up to it. */
export function describeDifference(
  c: ConformanceCase,
  kafkaStreams: readonly OutputRecord[],
  streamlane: readonly OutputRecord[]
): string {
  const i = firstDifference(kafkaStreams, streamlane)
  const at = Math.min(kafkaStreams[i]?.after ?? Infinity, streamlane[i]?.after ?? Infinity)
  const lines = [
    `case ${c.id}: first difference at output record ${i} (Kafka Streams ${kafkaStreams.length} records, Streamlane ${streamlane.length})`
  ]
  for (let j = Math.max(0, i - 2); j < i + 3; j++) {
    if (kafkaStreams[j] === undefined && streamlane[j] === undefined) break
    const mark = j === i ? '>' : ' '
    lines.push(`${mark} Kafka Streams: ${showRecord(kafkaStreams[j])}`)
    lines.push(`${mark} Streamlane:    ${showRecord(streamlane[j])}`)
  }
  if (Number.isFinite(at)) {
    lines.push('input up to that point (last 12 events):')
    for (let k = Math.max(0, at - 11); k <= at && k < c.events.length; k++)
      lines.push(`  ${showEvent(c.events[k]!, k)}`)
  }
  return lines.join('\n')
}
