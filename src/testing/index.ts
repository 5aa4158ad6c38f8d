export { type PipedRecord, TestInputTopic, type TestInputTopicOptions } from './test-input-topic.ts'
export { TestOutputTopic } from './test-output-topic.ts'
export type { KeyValue, TestRecord } from './test-record.ts'
export { TopologyTestDriver, type TopologyTestDriverConfig } from './topology-test-driver.ts'
