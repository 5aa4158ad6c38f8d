/**
 * Streamlane's public API: the DSL, the Processor API, serdes and error handlers. The test driver is exported
 * separately from `streamlane/testing`.
 */
export {
  BranchedKStream,
  type Consumed,
  KStream,
  type Produced,
  type Repartitioned,
  StreamsBuilder
} from './dsl/index.ts'
export { ConfigError, StreamlaneError } from './errors.ts'
export { type AppDefinition, defineApp } from './runtime/app-definition.ts'
export { resolveConfig, type StreamsConfig, type StreamsConfigInput } from './runtime/config.ts'
export type { AppState, StateListener } from './runtime/lifecycle.ts'
export { StreamlaneApp, type StreamlaneAppOptions } from './runtime/streamlane-app.ts'
export {
  DeserializationError,
  type HeaderEntry,
  Headers,
  type HeaderValue,
  type JsonSchemaSerdeOptions,
  type RecordPart,
  type Serde,
  Serdes,
  SerializationError
} from './serde/index.ts'
export {
  type Cancellable,
  type ChangelogTopicPlan,
  type ConsumedRecord,
  CopartitioningError,
  changelogTopicName,
  checkCopartitioning,
  ERROR_HEADERS,
  type ErrorContext,
  type ErrorHandler,
  type ErrorHandlerConfig,
  ErrorHandlers,
  type ErrorResponse,
  type ErrorStage,
  InvalidTimestampError,
  type LogAndContinueHandler,
  MissingSourceTopicError,
  type NodeDescription,
  type PartitionPlan,
  ProcessingError,
  type Processor,
  type ProcessorContext,
  type ProcessorSupplier,
  ProductionError,
  type PunctuationType,
  type Punctuator,
  planPartitions,
  planTopology,
  type RecordContext,
  type RecordMetadata,
  type RepartitionTopicPlan,
  recordTimestamp,
  repartitionTopicName,
  type SinkOptions,
  type SourceOptions,
  type StateStore,
  type StateStoreContext,
  type StoreBuilder,
  type StreamPartitioner,
  type StreamRecord,
  type SubtopologyDescription,
  type SubtopologyPlan,
  TaskId,
  type TimestampExtractor,
  type TopicNameExtractor,
  Topology,
  type TopologyDescription,
  TopologyError,
  TopologyPlan,
  type WarnLogger
} from './topology/index.ts'
