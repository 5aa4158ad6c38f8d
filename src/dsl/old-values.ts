/**
 * Kafka Streams' "send old values" switch of a table node (`KTableImpl.enableSendingOldValues`), which decides two
 * things users see: whether a table read from a topic without a store name is materialized (and so cached), and
 * whether an unmaterialized `filter` forwards a tombstone for every record it rejects.
 *
 * - An aggregation, a named `builder.table()` and a materialized filter / mapValues always send old values.
 * - `builder.table(topic)` without a store name is materialized only when an operation downstream needs old values
 *   (`groupBy`); until then it forwards every record as it comes, uncached, with no old value.
 * - An unmaterialized filter / mapValues sends old values when its parent does. A filter asks its parent when it is
 *   added: if the parent cannot send old values, the filter cannot tell a key it never forwarded from one it did, so it
 *   forwards a tombstone for each record it rejects (as Kafka Streams' `KTable.filter` javadoc says).
 */
export interface OldValues {
  /** Whether this node forwards old values now. */
  readonly enabled: boolean
  /** Asks this node to send old values; `force` materializes an unnamed table source. True when it does. */
  enable(force: boolean): boolean
}

/** Nodes backed by their own store: always able to send old values. */
export const MATERIALIZED: OldValues = { enabled: true, enable: () => true }

/** An unnamed `builder.table()` source: materialized once some downstream operation forces it. */
export function unnamedSource(): OldValues {
  let enabled = false
  return {
    get enabled() {
      return enabled
    },
    enable(force) {
      if (force) enabled = true
      return enabled
    }
  }
}

/** An unmaterialized filter or mapValues: sends old values when its parent does. */
export function derived(parent: OldValues): OldValues {
  let enabled = parent.enable(false)
  return {
    get enabled() {
      return enabled
    },
    enable(force) {
      if (parent.enable(force)) enabled = true
      return enabled
    }
  }
}
