/**
 * The byte-level contracts the typed stores are built from. A typed store serializes keys and values and talks to a
 * stack of byte layers, top to bottom:
 *
 *   caching (record cache, optional) -> change logging (optional) -> pending writes -> backend (memory | LMDB)
 *
 * Keys here are PHYSICAL keys, the bytes the backend orders by. For key-value stores they are the serialized key;
 * window and session stores prefix a segment id (see window-key-schema.ts), which their changelog codec strips.
 */

export interface BytesEntry {
  readonly key: Buffer
  readonly value: Buffer
}

/** A write to apply; `value: null` deletes. */
export interface BytesWrite {
  readonly key: Buffer
  readonly value: Buffer | null
}

/** Reads shared by every layer. Ranges are inclusive at both ends; `undefined` leaves that end open. */
export interface BytesReader {
  get(key: Buffer): Buffer | undefined
  range(from: Buffer | undefined, to: Buffer | undefined, reverse: boolean): Iterator<BytesEntry>
  approximateNumEntries(): number
}

/** The changelog position a backend's data corresponds to: the next changelog offset to restore from. */
export interface ChangelogCheckpoint {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

/** Where committed bytes live. Writes arrive only in batches, each atomic together with its checkpoint. */
export interface BytesBackend extends BytesReader {
  readonly persistent: boolean
  /** A path or description for messages. */
  readonly location: string
  /** The longest key it accepts; stores check keys against it when they are written, long before a commit. */
  readonly maxKeyBytes: number
  /** Applies `writes` and, when given, the checkpoint, all or nothing (one LMDB write transaction). */
  write(writes: Iterable<BytesWrite>, checkpoint: ChangelogCheckpoint | null): void
  /**
   * A restored batch: like `write`, but a backend may commit it later on another thread (in order, data with its
   * checkpoint); the task's state manager waits for it (`TaskStateManager.restored`) before the store is read.
   */
  restoreWrite?(writes: readonly BytesWrite[], checkpoint: ChangelogCheckpoint): void
  /** The checkpoint of the data as it is now, or `null` when it has none (new store, or never logged). */
  checkpoint(): ChangelogCheckpoint | null
  /**
   * The layout the data was written in (`key-value/1`, `window/1 segment=...`): a store whose layout changed (its
   * retention did, say) cannot read its old keys, so it is cleared and restored from the changelog.
   */
  layout(): string | null
  /** Records the layout; durable with the next write. */
  setLayout(layout: string): void
  /** Deletes every entry and the checkpoint (a wipe before a full restore). */
  clear(): void
  close(): void
}

/** A layer between the typed store and the backend. */
export interface BytesLayer extends BytesReader {
  /** `value: null` deletes. `timestamp` is the record timestamp the changelog record and cache entry carry. */
  put(key: Buffer, value: Buffer | null, timestamp: number): void
  /**
   * Deletes every key below `bound` without logging: retention expiry of window and session segments. The changelog
   * forgets them on its own (compact,delete with retention), so logging tombstones would only add traffic.
   */
  expireBefore(bound: Buffer): void
}

/**
 * How a store's physical entries map to changelog records and back. The identity for plain key-value stores;
 * window and session stores drop the segment prefix from keys; timestamped stores move the value's timestamp into
 * the record timestamp.
 */
export interface ChangelogCodec {
  toChangelogKey(physicalKey: Buffer): Buffer
  fromChangelogKey(changelogKey: Buffer): Buffer
  /** The changelog value and, when the stored value carries one, its timestamp. */
  toChangelogValue(storedValue: Buffer): { readonly value: Buffer; readonly timestamp: number | null }
  fromChangelogValue(value: Buffer, timestamp: number): Buffer
}

export const identityCodec: ChangelogCodec = {
  toChangelogKey: (key) => key,
  fromChangelogKey: (key) => key,
  toChangelogValue: (value) => ({ value, timestamp: null }),
  fromChangelogValue: (value) => value
}
