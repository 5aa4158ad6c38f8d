import type { Topology } from '../topology/index.ts'
import { TopologyError } from '../topology/index.ts'

/**
 * What every stream of one `StreamsBuilder` shares: the topology being built and the counter behind generated node
 * names. Operations added later (grouping, tables, windows, joins) take it from the stream they start from.
 */
export class DslContext {
  readonly topology: Topology
  #index = 0

  constructor(topology: Topology) {
    this.topology = topology
  }

  /** `KSTREAM-MAP-0000000003`: the prefix and a builder-wide counter, as Kafka Streams names nodes. */
  newName(prefix: string): string {
    return `${prefix}-${String(this.#index++).padStart(10, '0')}`
  }

  /** The user's name if given (checked), else a generated one. */
  nameOr(name: string | undefined, prefix: string): string {
    if (name === undefined) return this.newName(prefix)
    if (typeof name !== 'string' || name.length === 0)
      throw new TopologyError(`a ${prefix} node name must be a non-empty string`)
    return name
  }
}
