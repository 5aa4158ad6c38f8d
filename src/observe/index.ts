/**
 * Metrics, structured logs, health endpoints and restore progress logs. Observe takes what it shows of the runtime
 * through types it owns (`AppState`, `AppMetricsSource`, `RestoreProgressReport`), so it never imports the runtime.
 */
export { APP_STATES, type AppState } from './app-status.ts'
export { type HttpServer, httpSecurity, startHttpServer } from './http-server.ts'
export { createLogger, type Logger } from './logger.ts'
export { APP_METRIC_GROUPS, type MetricGroup } from './metric-groups.ts'
export {
  APP_METRIC_NAMES,
  type AppMetrics,
  type AppMetricsSource,
  createAppMetrics,
  type PartitionLag,
  type ProducerStats,
  type StoreStats,
  topologyHash
} from './metrics.ts'
export { QUERY_METRIC_NAME, type QueryRequestLabels, queryRequestMetrics } from './query-metrics.ts'
export { type InfoLogger, type RestoreProgressReport, restoreProgressLogger } from './restore-progress-log.ts'
export {
  createShareGroupMetrics,
  SHARE_GROUP_METRIC_NAMES,
  type ShareGroupCounters,
  type ShareGroupMetricsSource
} from './share-group-metrics.ts'
export { STATUS_PAGE_CSP } from './status-page.ts'
export { STATUS_POLLING_HTML, statusPollingScript } from './status-page-polling.ts'
export {
  type AppStatus,
  type AppStatusSource,
  buildAppStatus,
  type StoreStatus,
  type TaskRestoreStatus
} from './status-report.ts'
export { type TopologyGraph, type TopologyGraphNode, topologyGraph } from './topology-graph.ts'
