/**
 * The peer benchmark's workloads (issue 17): each names the topology both systems run (the same on both sides:
 * bench/peer/streamlane-peer.ts and conformance/kafka-streams' PeerBench.java), its guarantee and commit interval,
 * and the input it reads. `npm run bench -- peer --workload <name>` selects some.
 */

/** Topologies both peers implement. Output keys and values are bytes, or 8-byte big-endian longs for counts. */
export type PeerTopology = 'map' | 'count' | 'window' | 'reduce'

/**
 * shared-keys: keys `i % 100,000`; distinct-keys: keys `i`; timed: shared keys with timestamps 1 ms apart (for the
 * windows); changelog: an empty input, and a pre-produced 1M-key changelog per app to restore.
 */
export type PeerInput = 'shared-keys' | 'distinct-keys' | 'timed' | 'changelog'

export interface Workload {
  name: string
  /** The row's label in the results. */
  label: string
  topology: PeerTopology
  guarantee: 'at_least_once' | 'exactly_once_v2'
  commitIntervalMs: number
  input: PeerInput
}

export const WINDOW_MS = 60_000
export const GRACE_MS = 10_000

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'stateless',
    label: 'stateless `mapValues` -> `to`',
    topology: 'map',
    guarantee: 'at_least_once',
    commitIntervalMs: 5_000,
    input: 'shared-keys'
  },
  {
    name: 'count',
    label: '`groupByKey().count()`, at-least-once, 5 s commits',
    topology: 'count',
    guarantee: 'at_least_once',
    commitIntervalMs: 5_000,
    input: 'shared-keys'
  },
  {
    name: 'window',
    label: 'tumbling 60 s window count, 10 s grace',
    topology: 'window',
    guarantee: 'at_least_once',
    commitIntervalMs: 5_000,
    input: 'timed'
  },
  {
    name: 'eos',
    label: 'count, exactly_once_v2 at the default 100 ms commit interval',
    topology: 'count',
    guarantee: 'exactly_once_v2',
    commitIntervalMs: 100,
    input: 'shared-keys'
  },
  {
    name: 'eos-5s',
    label: 'count, exactly_once_v2, 5 s commits',
    topology: 'count',
    guarantee: 'exactly_once_v2',
    commitIntervalMs: 5_000,
    input: 'shared-keys'
  },
  {
    name: 'reduce',
    label: '`reduce` keeping the latest value, 1M distinct keys',
    topology: 'reduce',
    guarantee: 'at_least_once',
    commitIntervalMs: 5_000,
    input: 'distinct-keys'
  },
  {
    name: 'restore',
    label: 'restore a 1M-key changelog into an empty state dir',
    topology: 'reduce',
    guarantee: 'at_least_once',
    commitIntervalMs: 5_000,
    input: 'changelog'
  }
]

/** The workloads `names` select (all when empty); an unknown name is an error listing the known ones. */
export function selectWorkloads(names: readonly string[]): Workload[] {
  const unknown = names.filter((name) => !WORKLOADS.some((w) => w.name === name))
  if (unknown.length > 0) {
    throw new Error(
      `unknown peer workload ${unknown.join(', ')}; there are: ${WORKLOADS.map((w) => w.name).join(', ')}`
    )
  }
  return names.length === 0 ? [...WORKLOADS] : WORKLOADS.filter((w) => names.includes(w.name))
}

/** The store whose changelog the restore workload restores: `<applicationId>-latest-changelog` on both sides. */
export const RESTORE_STORE = 'latest'

/** ASCII lowercase to uppercase into a new buffer: the stateless workload's mapValues (PeerBench.upper in Java). */
export function upperCase(value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length)
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!
    out[i] = b >= 97 && b <= 122 ? b - 32 : b
  }
  return out
}
