import { TopologyError } from '../topology/index.ts'
import { KStream } from './kstream.ts'
import { type Branch, passThrough, splitProcessor } from './stateless-processors.ts'

type Flatten<T> = { [P in keyof T]: T[P] }

/**
 * The result of `KStream.split()`: add branches in order with `branch(predicate, name)`, then finish with
 * `defaultBranch()` (records no predicate took) or `noDefaultBranch()` (those are dropped). Either returns the
 * branches as an object keyed by `<split name><branch name>`, typed: `branches.large` is a `KStream`.
 */
export class BranchedKStream<K, V, Prefix extends string = '', Branches = Record<never, never>> {
  readonly #source: KStream<K, V>
  readonly #prefix: string
  readonly #splitterName: string
  readonly #branches: Branch<K, V>[] = []
  readonly #streams: Record<string, KStream<K, V>> = {}
  /** Branches a chain consumed (no entry in the result), for the duplicate-name check. */
  readonly #chained = new Set<string>()
  #done = false

  constructor(source: KStream<K, V>, name: string | undefined) {
    this.#source = source
    this.#prefix = name ?? ''
    this.#splitterName = source.dsl.nameOr(name, 'KSTREAM-BRANCH')
    source.dsl.topology.addProcessor(this.#splitterName, splitProcessor(this.#branches), source.nodeName)
  }

  /**
   * Adds a branch. With `chain` (Kafka Streams' `Branched.withFunction` / `withConsumer`), the branch's stream is
   * given to it: the stream it returns is the branch's entry in the result; when it returns nothing, the branch has
   * no entry (a consumer that ends the branch itself).
   */
  branch<N extends string, VB extends V, KR, VR>(
    predicate: (key: K, value: V) => value is VB,
    name: N,
    chain: (stream: KStream<K, VB>) => KStream<KR, VR>
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<KR, VR> }>
  branch<N extends string, KR, VR>(
    predicate: (key: K, value: V) => boolean,
    name: N,
    chain: (stream: KStream<K, V>) => KStream<KR, VR>
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<KR, VR> }>
  branch<N extends string, VB extends V>(
    predicate: (key: K, value: V) => value is VB,
    name: N,
    consume: (stream: KStream<K, VB>) => void
  ): BranchedKStream<K, V, Prefix, Branches>
  branch<N extends string>(
    predicate: (key: K, value: V) => boolean,
    name: N,
    consume: (stream: KStream<K, V>) => void
  ): BranchedKStream<K, V, Prefix, Branches>
  branch<N extends string, VB extends V>(
    predicate: (key: K, value: V) => value is VB,
    name: N
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<K, VB> }>
  branch<N extends string>(
    predicate: (key: K, value: V) => boolean,
    name: N
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<K, V> }>
  branch(predicate: (key: K, value: V) => boolean, name: string, chain?: (stream: KStream<K, V>) => unknown): unknown {
    if (typeof predicate !== 'function') throw new TopologyError(`branch ${name} needs a predicate function`)
    this.#addBranch(name, predicate, chain)
    return this
  }

  /** The branch of the records no predicate took; `chain` as in `branch`. */
  defaultBranch<N extends string = 'default', KR = K, VR = V>(
    name?: N,
    chain?: (stream: KStream<K, V>) => KStream<KR, VR>
  ): Flatten<Branches & { [P in `${Prefix}${N}`]: KStream<KR, VR> }>
  defaultBranch<N extends string = 'default'>(name: N, consume: (stream: KStream<K, V>) => void): Flatten<Branches>
  defaultBranch(name?: string, chain?: (stream: KStream<K, V>) => unknown): unknown {
    this.#addBranch(name ?? 'default', () => true, chain)
    return this.#finish()
  }

  noDefaultBranch(): Flatten<Branches> {
    return this.#finish() as never
  }

  #addBranch(name: string, predicate: (key: K, value: V) => boolean, chain?: (stream: KStream<K, V>) => unknown): void {
    if (this.#done)
      throw new TopologyError(`split ${this.#splitterName} is finished; add branches before defaultBranch()`)
    if (typeof name !== 'string' || name.length === 0)
      throw new TopologyError(`branches of split ${this.#splitterName} need a name`)
    const key = `${this.#prefix}${name}`
    if (key in this.#streams || this.#chained.has(key))
      throw new TopologyError(`split ${this.#splitterName} already has a branch named ${name}`)
    const childName = this.#prefix === '' ? `${this.#splitterName}-${name}` : key
    const { dsl, serdes, repartitionRequired } = this.#source
    dsl.topology.addProcessor(childName, passThrough<K, V>(), this.#splitterName)
    this.#branches.push({ predicate, childName })
    const stream = new KStream<K, V>(dsl, childName, serdes, repartitionRequired)
    if (chain === undefined) {
      this.#streams[key] = stream
      return
    }
    if (typeof chain !== 'function') throw new TopologyError(`branch ${name}: the chain must be a function`)
    const result = chain(stream)
    if (result instanceof KStream) this.#streams[key] = result as KStream<K, V>
    else this.#chained.add(key)
  }

  #finish(): Record<string, KStream<K, V>> {
    if (this.#done) throw new TopologyError(`split ${this.#splitterName} is already finished`)
    this.#done = true
    return { ...this.#streams }
  }
}
