/**
 * The states an app goes through (as Kafka Streams' KafkaStreams.State). Observe owns the names so that it reads the
 * app's state without importing the runtime; the runtime's state machine (runtime/app-state.ts) moves between them.
 * Kubernetes readiness is "RUNNING"; the autoscaler holds decisions while any instance is REBALANCING.
 */
export const APP_STATES = ['CREATED', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING', 'ERROR'] as const

export type AppState = (typeof APP_STATES)[number]
