export { BranchedKStream } from './branched-kstream.ts'
export type { Consumed, Produced, Repartitioned } from './dsl-options.ts'
export { type KnownSerdes, KStream, type ProcessOptions } from './kstream.ts'
export { StreamsBuilder } from './streams-builder.ts'
