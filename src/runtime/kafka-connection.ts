import type { KafkaConnectionOptions } from '../kafka/connection.ts'
import type { StreamsConfig } from './config.ts'

/**
 * How the CLI's admin commands for an app (`reset`, `topics create`) connect to Kafka: with the app's own
 * connection settings, as `StreamlaneApp.start` does.
 */
export function kafkaConnectionOf(config: StreamsConfig): KafkaConnectionOptions {
  return {
    brokers: config.bootstrapServers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs
  }
}
