import { StreamlaneError } from '../errors.ts'
import { type StoreFamily, type StoreKind, storeFamily } from '../state/index.ts'
import type { TopologyPlan } from '../topology/index.ts'

export { keyValueView, sessionView, windowView } from '../state/index.ts'
export type { StoreFamily }

/**
 * Read-only typed views of a driver's stores, as Kafka Streams' test driver gives them: `getKeyValueStore` of a
 * timestamped store (every DSL table and aggregation) shows plain values, `getTimestampedKeyValueStore` shows
 * `{ value, timestamp }`. Reads see every update processed so far, committed or not.
 */

/** Checks that the store is of the expected family (stores of unknown builders are trusted). */
export function checkFamily(name: string, kind: StoreKind | undefined, expected: StoreFamily): void {
  if (kind === undefined || storeFamily(kind) === expected) return
  throw new StreamlaneError(
    'STREAMLANE_TEST_STORE_KIND',
    `state store ${name} is a ${kind} store, not a ${expected} store; use the matching get...Store() method`
  )
}

/** The kind of a store of the topology, checked to be of the expected family; unknown store names are an error. */
export function storeKindOf(plan: TopologyPlan, name: string, family: StoreFamily): StoreKind | undefined {
  const builder = plan.storeBuilders.get(name) ?? plan.globalStores.get(name)?.builder
  if (builder === undefined) {
    throw new StreamlaneError('STREAMLANE_TEST_UNKNOWN_STORE', `the topology has no state store named ${name}`)
  }
  const kind = (builder as { kind?: StoreKind }).kind
  checkFamily(name, kind, family)
  return kind
}
