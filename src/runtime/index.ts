/** The app runtime: the app and its configuration, the state machine, tasks, restoration, commits, exactly-once. */
export { type AppDefinition, defineApp } from './app-definition.ts'
export { AppLifecycle, type AppState, type StateListener } from './app-state.ts'
export {
  configFromEnvironment,
  resolveConfig,
  type StreamsConfig,
  type StreamsConfigInput,
  streamsConfigSchema
} from './config.ts'
export { kafkaConnectionOf } from './kafka-connection.ts'
export {
  KAFKA_SECURITY_ENVIRONMENT,
  kafkaConnectionSecurity,
  kafkaSecurityFromEnvironment,
  parseKafkaSecurity
} from './kafka-security.ts'
export {
  checkShareGroupTopology,
  ShareGroupApp,
  type ShareGroupAppOptions,
  type ShareGroupCounters
} from './share-group-app.ts'
export type { TaskRestoreProgress } from './state-restorer.ts'
export { StreamlaneApp, type StreamlaneAppOptions } from './streamlane-app.ts'
