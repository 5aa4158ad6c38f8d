export { TaskId } from '../task-id.ts'
export { type CommittedTaskMetadata, decodeCommittedMetadata, encodeCommittedMetadata } from './committed-metadata.ts'
export { type CopartitionGroup, checkCopartitioning } from './copartitioning.ts'
export { DROPPED_RECORDS_METRICS, type DroppedRecordReason } from './dropped-records.ts'
export {
  deadLetter,
  deadLetterRecord,
  ERROR_HEADERS,
  type ErrorContext,
  type ErrorHandler,
  type ErrorHandlerConfig,
  ErrorHandlers,
  type ErrorResponse,
  type ErrorStage,
  fail,
  type LogAndContinueHandler,
  logAndContinue,
  type WarnLogger
} from './error-handlers.ts'
export {
  type ConsumedRecord,
  type RecordContext,
  recordTimestamp,
  type StreamPartitioner,
  type TimestampExtractor,
  type TopicNameExtractor
} from './extractors.ts'
export { GlobalStoreProcessors, type GlobalStoreProcessorsOptions } from './global-store-processors.ts'
export { changelogTopicName, isInternalTopicOf, repartitionTopicName } from './internal-topics.ts'
export { andThen, forEachInOrder, forEachOfIterable, isPromiseLike, type MaybePromise } from './maybe-async.ts'
export { type BufferedCount, PartitionGroup, type PartitionGroupOptions } from './partition-group.ts'
export { type PartitionPlan, planPartitions } from './partition-plan.ts'
export type {
  Cancellable,
  Processor,
  ProcessorContext,
  ProcessorSupplier,
  PunctuationType,
  Punctuator
} from './processor.ts'
export { ProcessorMetadata } from './processor-metadata.ts'
export type { RawRecord, RecordMetadata, StreamRecord, TopicPartition } from './record.ts'
export type { ProducedRecord, ProducedRecordOrigin, RecordCollector, TaskActivity } from './record-collector.ts'
export type { StateStore, StateStoreContext, StoreBuilder } from './state-store.ts'
export type { Subtopology } from './subtopologies.ts'
export { addTaskCounters, newTaskCounters, type TaskCounters } from './task-counters.ts'
export { openStores } from './task-graph-lifecycle.ts'
export {
  type ConsumedOffset,
  TaskProcessorGraph,
  type TaskProcessorGraphOptions
} from './task-processor-graph.ts'
export {
  type GlobalStoreDefinition,
  type GlobalStoreOptions,
  type GlobalStoreProcessorDefinition,
  isTopology,
  type NodeDefinition,
  type ProcessorDefinition,
  type RepartitionTopicDefinition,
  type SinkDefinition,
  type SinkOptions,
  type SourceDefinition,
  type SourceOptions,
  Topology
} from './topology.ts'
export type {
  GlobalStoreDescription,
  NodeDescription,
  SubtopologyDescription,
  TopologyDescription
} from './topology-description.ts'
export {
  CopartitioningError,
  InvalidTimestampError,
  MAX_RECORD_TIMESTAMP,
  type MissingSinkTopic,
  MissingSinkTopicError,
  MissingSourceTopicError,
  ProcessingError,
  ProductionError,
  TaskStateError,
  TopologyError
} from './topology-errors.ts'
export {
  type ChangelogTopicPlan,
  matchesWhole,
  planTopology,
  type RepartitionTopicPlan,
  type SubtopologyPlan,
  TopologyPlan
} from './topology-plan.ts'
