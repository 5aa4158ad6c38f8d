import type { KafkaConnectionOptions } from '../kafka/connection.ts'
import type { StreamsConfig } from './config.ts'

/** How an app (and the CLI's admin commands for it: `reset`, `topics create`) connects to Kafka. */
export function kafkaConnectionOf(config: StreamsConfig): KafkaConnectionOptions {
  return {
    brokers: config.bootstrapServers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs
  }
}
