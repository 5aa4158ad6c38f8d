import type { BytesEntry } from './bytes-store.ts'

/** An entry of an overlay (pending writes, record cache): `value: null` hides the key of the layer below. */
export interface OverlayEntry {
  readonly key: Buffer
  readonly value: Buffer | null
}

/**
 * Merges an overlay's sorted entries over a base's sorted entries, both in the same direction: the overlay wins on
 * equal keys and its `null` values delete. This is how reads see uncommitted writes (read-your-writes) and cached
 * updates, as Kafka Streams' MergedSortedCacheKeyValueBytesStoreIterator does.
 */
export function* mergeOverlay(
  overlay: Iterator<OverlayEntry>,
  base: Iterator<BytesEntry>,
  reverse: boolean
): Generator<BytesEntry, undefined> {
  const direction = reverse ? -1 : 1
  try {
    let top = overlay.next()
    let bottom = base.next()
    while (!top.done || !bottom.done) {
      if (top.done) {
        yield bottom.value as BytesEntry
        bottom = base.next()
        continue
      }
      const upper = top.value
      const order = bottom.done ? -1 : Buffer.compare(upper.key, bottom.value.key) * direction
      if (order <= 0) {
        if (upper.value !== null) yield { key: upper.key, value: upper.value }
        if (order === 0) bottom = base.next()
        top = overlay.next()
      } else {
        yield bottom.value as BytesEntry
        bottom = base.next()
      }
    }
  } finally {
    overlay.return?.()
    base.return?.()
  }
}
