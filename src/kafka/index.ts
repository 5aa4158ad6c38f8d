/**
 * The Kafka layer's public surface (`streamlane/kafka`). Everything else in Streamlane imports Kafka through these
 * modules only; none of them exposes a type of the client library.
 */
export {
  type CommittedOffset,
  createAdmin,
  type GroupDescription,
  type GroupMemberDescription,
  type KafkaAdmin,
  type NewTopic,
  type OffsetSpec,
  type TopicDescription
} from './admin.ts'
export {
  CONNECTION_DEFAULTS,
  type KafkaConnectionOptions,
  type KafkaConnectionSecurity,
  resolveConnectionOptions,
  type SaslOptions,
  type SecretProvider
} from './connection.ts'
export {
  AuthenticationError,
  BrokerTlsError,
  BrokerUnreachableError,
  KafkaClosedError,
  KafkaError,
  type KafkaErrorContext,
  KafkaRequestError,
  KafkaTimeoutError,
  OffsetCommitRejectedError,
  OffsetOutOfRangeError,
  ProducerFencedError,
  TopicExistsError,
  TopicPartitionCountError,
  translateKafkaError,
  UnknownTopicError,
  WritesHeldError
} from './errors.ts'
export {
  createPartitionReader,
  type KafkaPartitionReader,
  OFFSET_EARLIEST,
  OFFSET_LATEST,
  type PartitionReaderOptions
} from './partition-reader.ts'
export { murmur2, murmur2Partition } from './partitioner.ts'
export { createProducer, type KafkaProducer, type ProducerOptions, type TransactionOffsets } from './producer.ts'
export type { AcknowledgeType } from './share/acknowledgements.ts'
export { alterShareGroupConfig, type ShareGroupConfig } from './share/share-admin.ts'
export {
  type AcknowledgementFailure,
  type AcknowledgementMode,
  createShareConsumer,
  type KafkaShareConsumer,
  type ShareConsumerOptions,
  type ShareRecord
} from './share/share-consumer.ts'
export { describeShareGroup, type ShareGroupDescription, type ShareGroupMember } from './share/share-describe.ts'
export { describeShareGroupBacklog, type SharePartitionBacklog } from './share/share-offsets.ts'
export type {
  ConsumedRecord,
  IsolationLevel,
  ProducerRecord,
  RecordHeader,
  RecordMetadata,
  TopicPartition,
  TopicPartitionOffset
} from './types.ts'
