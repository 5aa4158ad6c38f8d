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
  #done = false

  constructor(source: KStream<K, V>, name: string | undefined) {
    this.#source = source
    this.#prefix = name ?? ''
    this.#splitterName = source.dsl.nameOr(name, 'KSTREAM-BRANCH')
    source.dsl.topology.addProcessor(this.#splitterName, splitProcessor(this.#branches), source.nodeName)
  }

  branch<N extends string, VB extends V>(
    predicate: (key: K, value: V) => value is VB,
    name: N
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<K, VB> }>
  branch<N extends string>(
    predicate: (key: K, value: V) => boolean,
    name: N
  ): BranchedKStream<K, V, Prefix, Branches & { [P in `${Prefix}${N}`]: KStream<K, V> }>
  branch(predicate: (key: K, value: V) => boolean, name: string): unknown {
    if (typeof predicate !== 'function') throw new TopologyError(`branch ${name} needs a predicate function`)
    this.#addBranch(name, predicate)
    return this
  }

  defaultBranch<N extends string = 'default'>(name?: N): Flatten<Branches & { [P in `${Prefix}${N}`]: KStream<K, V> }> {
    this.#addBranch(name ?? 'default', () => true)
    return this.#finish() as never
  }

  noDefaultBranch(): Flatten<Branches> {
    return this.#finish() as never
  }

  #addBranch(name: string, predicate: (key: K, value: V) => boolean): void {
    if (this.#done)
      throw new TopologyError(`split ${this.#splitterName} is finished; add branches before defaultBranch()`)
    if (typeof name !== 'string' || name.length === 0)
      throw new TopologyError(`branches of split ${this.#splitterName} need a name`)
    const key = `${this.#prefix}${name}`
    if (key in this.#streams) throw new TopologyError(`split ${this.#splitterName} already has a branch named ${name}`)
    const childName = this.#prefix === '' ? `${this.#splitterName}-${name}` : key
    const { dsl, serdes, repartitionRequired } = this.#source
    dsl.topology.addProcessor(childName, passThrough<K, V>(), this.#splitterName)
    this.#branches.push({ predicate, childName })
    this.#streams[key] = new KStream(dsl, childName, serdes, repartitionRequired)
  }

  #finish(): Record<string, KStream<K, V>> {
    if (this.#done) throw new TopologyError(`split ${this.#splitterName} is already finished`)
    this.#done = true
    return { ...this.#streams }
  }
}
