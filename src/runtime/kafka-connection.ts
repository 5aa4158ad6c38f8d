import type { KafkaConnectionOptions } from '../kafka/index.ts'
import type { StreamsConfig } from './config.ts'
import { kafkaConnectionSecurity } from './kafka-security.ts'

/**
 * How the CLI's admin commands for an app (`reset`, `topics create`) connect to Kafka: with the app's own
 * connection settings, TLS and SASL included, as `StreamlaneApp.start` does. Holds secrets: never log it.
 */
export function kafkaConnectionOf(config: StreamsConfig): KafkaConnectionOptions {
  return {
    brokers: config.bootstrapServers,
    clientId: config.clientId,
    connectTimeoutMs: config.connectTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    ...kafkaConnectionSecurity(config.security ?? { securityProtocol: 'PLAINTEXT' })
  }
}
