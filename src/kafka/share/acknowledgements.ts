import { ACK_ACCEPT, ACK_GAP, ACK_REJECT, ACK_RELEASE, type AcknowledgementBatch } from './share-apis.ts'

/**
 * Per-record acknowledgements of a share-group consumer and their wire form. Pure: no I/O, unit-tested.
 *
 * - accept: processed; the record is done for the group.
 * - release: give it back now; the broker redelivers it (delivery count + 1), to this member or another.
 * - reject: unprocessable; the broker archives it and never redelivers it.
 */
export type AcknowledgeType = 'accept' | 'release' | 'reject'

const TYPE_CODES: Record<AcknowledgeType | 'gap', number> = {
  gap: ACK_GAP,
  accept: ACK_ACCEPT,
  release: ACK_RELEASE,
  reject: ACK_REJECT
}

export function acknowledgeTypeCode(type: AcknowledgeType | 'gap'): number {
  const code = TYPE_CODES[type]
  if (code === undefined) throw new TypeError(`acknowledge type must be accept, release or reject, got ${String(type)}`)
  return code
}

/**
 * Batches for one partition: runs of consecutive offsets become one batch, with a single type when the whole run
 * agrees (the compact form brokers expect for the common "accept everything" case) and one type per offset otherwise.
 */
export function toAcknowledgementBatches(acks: ReadonlyMap<bigint, number>): AcknowledgementBatch[] {
  const offsets = [...acks.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const batches: AcknowledgementBatch[] = []
  let run: { first: bigint; last: bigint; types: number[] } | undefined
  const flush = () => {
    if (!run) return
    const uniform = run.types.every((t) => t === run!.types[0])
    batches.push({
      firstOffset: run.first,
      lastOffset: run.last,
      acknowledgeTypes: uniform ? [run.types[0]!] : run.types
    })
  }
  for (const offset of offsets) {
    const type = acks.get(offset)!
    if (run && offset === run.last + 1n) {
      run.last = offset
      run.types.push(type)
    } else {
      flush()
      run = { first: offset, last: offset, types: [type] }
    }
  }
  flush()
  return batches
}

/** Offsets inside the acquired ranges that carry no record (compacted away, transaction markers): acknowledged as gaps. */
export function gapOffsets(
  acquired: { firstOffset: bigint; lastOffset: bigint }[],
  present: ReadonlySet<bigint>
): bigint[] {
  const gaps: bigint[] = []
  for (const range of acquired) {
    for (let o = range.firstOffset; o <= range.lastOffset; o++) if (!present.has(o)) gaps.push(o)
  }
  return gaps
}

/** The delivery count of `offset` among the acquired ranges, or undefined when the record was not acquired. */
export function deliveryCountOf(
  acquired: { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[],
  offset: bigint
): number | undefined {
  for (const range of acquired)
    if (offset >= range.firstOffset && offset <= range.lastOffset) return range.deliveryCount
  return undefined
}
