/**
 * The one typed configuration object of a Streamlane app. Every option has a default that is safe on Kubernetes;
 * `resolveConfig` validates the whole object at start and names the offending field, so a typo never surfaces as
 * a stall an hour later.
 */
import { hostname } from 'node:os'
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import { defaultHeartbeatIntervalMs } from '../kafka/group/index.ts'
import { kafkaSecurityFromEnvironment, kafkaSecuritySchema, mergeKafkaSecurity } from './kafka-security.ts'

const positiveMs = z.number().int().positive()

export const streamsConfigSchema = z
  .object({
    /** Names the consumer group, the internal topics (`<applicationId>-<store>-changelog`) and the state dir. */
    applicationId: z.string().regex(/^[a-zA-Z0-9._-]+$/, 'only letters, digits, ".", "_" and "-"'),
    bootstrapServers: z.array(z.string().min(1)).min(1),
    /** TLS and SASL for every Kafka connection (kafka-security.ts); plaintext by default. */
    security: kafkaSecuritySchema.optional(),
    clientId: z.string().optional(),
    stateDir: z.string().default('/tmp/streamlane'),
    processingGuarantee: z.enum(['at_least_once', 'exactly_once_v2']).default('at_least_once'),
    /** Default 5 s (at-least-once) so lag-based scalers see progress; 100 ms under exactly-once. */
    commitIntervalMs: positiveMs.optional(),
    /** Static membership: a restarted pod with the same id gets its tasks back without a rebalance. */
    groupInstanceId: z.string().optional(),
    /**
     * Whether close() sends LeaveGroup so the member's tasks move at once. Default: dynamic members leave; static
     * members stay (a restart within the session timeout then gets its tasks back without a rebalance).
     * Set it for scale-in, where the instance is not coming back.
     */
    leaveGroupOnClose: z.boolean().optional(),
    sessionTimeoutMs: positiveMs.default(45_000),
    /**
     * Unset: a fifteenth of the session timeout, at most 3 s (Kafka's own 45 s / 3 s). A member learns that a
     * rebalance started only from a heartbeat's answer, so after a pod loss this adds up to one interval to the pause
     * of the lost tasks (docs/high-availability.md).
     */
    heartbeatIntervalMs: positiveMs.optional(),
    rebalanceTimeoutMs: positiveMs.default(300_000),
    /** Graceful close (commit, flush, leave) must finish within this; it is the pod's grace period minus margin. */
    shutdownTimeoutMs: positiveMs.default(30_000),
    numStandbyReplicas: z.number().int().min(0).default(0),
    maxWarmupReplicas: z.number().int().min(1).default(2),
    acceptableRecoveryLag: z.number().int().min(0).default(10_000),
    probingRebalanceIntervalMs: positiveMs.default(600_000),
    /**
     * A stateful task moves only to an instance caught up on it; others first get a warm-up copy (KIP-441). False:
     * tasks move for balance at once and their new owner restores the whole changelog first.
     */
    highAvailability: z.boolean().default(true),
    /** State of a task no longer held here is deleted this long after it left (a task that returns reuses it). */
    stateCleanupDelayMs: z.number().int().min(0).default(600_000),
    /**
     * Consume through a share group (KIP-932) named by applicationId instead of a consumer group: instances share
     * partitions and acknowledge each record, so they scale past the partition count. Stateless, unordered,
     * at-least-once only (docs/share-groups.md). Absent: a consumer group.
     */
    shareGroup: z
      .object({
        /** Records this instance processes at once. */
        concurrency: z.number().int().positive().default(1),
        /** A record that failed on its Nth delivery is dead-lettered (if a topic is set) and rejected, not retried. */
        maxDeliveries: z.number().int().min(1).default(5),
        deadLetterTopic: z.string().min(1).optional(),
        /** Set on the group at start when given (needs ALTER_CONFIGS on the group): `earliest`, `latest`, `by_duration:...`. */
        autoOffsetReset: z.string().min(1).optional(),
        /** Acquisition lock set on the group at start when given (the broker bounds it, default 15 s..60 s). */
        recordLockDurationMs: positiveMs.optional()
      })
      .strict()
      .optional(),
    /** Records buffered per input partition before its fetching pauses (back-pressure). */
    maxBufferedRecordsPerPartition: z.number().int().positive().default(1_000),
    /** Asynchronous records in flight at most per instance, over all tasks (each task runs one record at a time). */
    maxRecordsInFlight: z.number().int().positive().default(100),
    /**
     * 'partition': a task runs one record at a time (Kafka Streams' order). 'key': up to `maxConcurrencyPerTask`
     * records of different keys at once, each key in order; stateless topologies only (docs/slow-processing.md).
     */
    processingOrder: z.enum(['partition', 'key']).default('partition'),
    /** Records of one task in flight at most; above 1 needs processingOrder 'key'. */
    maxConcurrencyPerTask: z.number().int().positive().default(1),
    /** Record cache between commits per task; 0 forwards every update. */
    cacheMaxBytes: z
      .number()
      .int()
      .min(0)
      .default(10 * 1024 * 1024),
    replicationFactor: z.number().int().min(-1).default(-1),
    /** host:port advertised to other instances for interactive queries. */
    applicationServer: z.string().optional(),
    /** Where to post this instance's self-reports (`streamlane scaler` or the local scaler); none by default. */
    scalerUrl: z.string().url().optional(),
    scalerReportIntervalMs: positiveMs.default(2_000),
    /** Bearer token sent with each report (the scaler's report token); the file (a mounted Secret) wins. */
    scalerReportToken: z.string().min(1).optional(),
    scalerReportTokenFile: z.string().min(1).optional(),
    /** Deadline of a send or flush, retries included (Kafka's delivery.timeout.ms). */
    deliveryTimeoutMs: positiveMs.default(120_000),
    /** Exactly-once: the broker aborts a transaction left open longer than this (Kafka's transaction.timeout.ms). */
    transactionTimeoutMs: positiveMs.default(60_000),
    connectTimeoutMs: positiveMs.default(10_000),
    requestTimeoutMs: positiveMs.default(30_000),
    /** Port of GET /metrics, /healthz and /ready (Prometheus, Kubernetes probes); none by default, 0 picks a free one. */
    metricsPort: z.number().int().min(0).max(65_535).optional(),
    /** Interface that endpoint listens on: loopback unless set; a pod sets 0.0.0.0 so the kubelet and Prometheus reach it. */
    metricsHost: z.string().min(1).default('127.0.0.1'),
    /** Bearer token(s) /metrics requires (the probes never do); the file (a mounted Secret) wins. */
    metricsToken: z.string().min(1).optional(),
    metricsTokenFile: z.string().min(1).optional(),
    /** PEM certificate and key: the endpoint then speaks HTTPS only. */
    metricsTlsCertFile: z.string().min(1).optional(),
    metricsTlsKeyFile: z.string().min(1).optional(),
    /** Lag series per input partition for at most this many partitions, the most lagging first; 0: totals only. */
    metricsPartitionSeries: z.number().int().min(0).max(10_000).default(0),
    /** Interactive queries in progress at once on this instance; more are answered 429 (retriable). */
    queryMaxConcurrent: z.number().int().min(1).default(16),
    /** Interactive queries a second from clients on this instance; more are answered 429 (retriable). Unset: no limit. */
    queryMaxRate: z.number().int().min(1).optional(),
    /**
     * Bearer token(s) of the query endpoint only (docs/interactive-queries.md); the file wins. Given, queries take
     * these and not `metricsToken` (a metrics scraper's token cannot read data: 403), and /metrics not these.
     */
    queryToken: z.string().min(1).optional(),
    queryTokenFile: z.string().min(1).optional(),
    /** PEM CA that signed the other instances' endpoint certificates: trusted when forwarding queries over HTTPS. */
    queryPeerCaFile: z.string().min(1).optional()
  })
  .strict()

export type StreamsConfigInput = z.input<typeof streamsConfigSchema>
export type ProcessingGuarantee = z.output<typeof streamsConfigSchema>['processingGuarantee']

/** What a processing guarantee means for the clients, resolved once so no one compares the option's string. */
export interface GuaranteeSettings {
  /** Transactional producer; input offsets commit inside the output's transaction. */
  readonly exactlyOnce: boolean
  /** What the app's readers see of transactional topics: only committed records under exactly-once. */
  readonly isolation: 'read_committed' | 'read_uncommitted'
  /** Commit interval when `commitIntervalMs` is not set (Kafka Streams' defaults: 100 ms and 5 s). */
  readonly defaultCommitIntervalMs: number
}

export function guaranteeSettings(guarantee: ProcessingGuarantee): GuaranteeSettings {
  return guarantee === 'exactly_once_v2'
    ? { exactlyOnce: true, isolation: 'read_committed', defaultCommitIntervalMs: 100 }
    : { exactlyOnce: false, isolation: 'read_uncommitted', defaultCommitIntervalMs: 5_000 }
}

export type StreamsConfig = z.output<typeof streamsConfigSchema> & {
  commitIntervalMs: number
  heartbeatIntervalMs: number
  clientId: string
  /** `processingGuarantee` resolved into what it means. */
  guarantee: GuaranteeSettings
}

/** Environment variables that override the module's and the file's configuration (12-factor, Kubernetes). */
const environmentOptions: Record<string, { field: keyof StreamsConfigInput; parse: (v: string) => unknown }> = {
  KAFKA_BROKERS: {
    field: 'bootstrapServers',
    parse: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
  },
  STREAMLANE_APPLICATION_ID: { field: 'applicationId', parse: String },
  STREAMLANE_STATE_DIR: { field: 'stateDir', parse: String },
  STREAMLANE_PROCESSING_GUARANTEE: { field: 'processingGuarantee', parse: String },
  STREAMLANE_COMMIT_INTERVAL_MS: { field: 'commitIntervalMs', parse: Number },
  STREAMLANE_GROUP_INSTANCE_ID: { field: 'groupInstanceId', parse: String },
  STREAMLANE_SESSION_TIMEOUT_MS: { field: 'sessionTimeoutMs', parse: Number },
  STREAMLANE_TRANSACTION_TIMEOUT_MS: { field: 'transactionTimeoutMs', parse: Number },
  STREAMLANE_HEARTBEAT_INTERVAL_MS: { field: 'heartbeatIntervalMs', parse: Number },
  STREAMLANE_SHUTDOWN_TIMEOUT_MS: { field: 'shutdownTimeoutMs', parse: Number },
  STREAMLANE_REBALANCE_TIMEOUT_MS: { field: 'rebalanceTimeoutMs', parse: Number },
  STREAMLANE_MAX_RECORDS_IN_FLIGHT: { field: 'maxRecordsInFlight', parse: Number },
  STREAMLANE_PROCESSING_ORDER: { field: 'processingOrder', parse: String },
  STREAMLANE_MAX_CONCURRENCY_PER_TASK: { field: 'maxConcurrencyPerTask', parse: Number },
  STREAMLANE_NUM_STANDBY_REPLICAS: { field: 'numStandbyReplicas', parse: Number },
  STREAMLANE_MAX_WARMUP_REPLICAS: { field: 'maxWarmupReplicas', parse: Number },
  STREAMLANE_ACCEPTABLE_RECOVERY_LAG: { field: 'acceptableRecoveryLag', parse: Number },
  STREAMLANE_PROBING_REBALANCE_INTERVAL_MS: { field: 'probingRebalanceIntervalMs', parse: Number },
  STREAMLANE_HIGH_AVAILABILITY: { field: 'highAvailability', parse: (v) => v === 'true' },
  STREAMLANE_STATE_CLEANUP_DELAY_MS: { field: 'stateCleanupDelayMs', parse: Number },
  STREAMLANE_APPLICATION_SERVER: { field: 'applicationServer', parse: String },
  STREAMLANE_SCALER_URL: { field: 'scalerUrl', parse: String },
  STREAMLANE_CACHE_MAX_BYTES: { field: 'cacheMaxBytes', parse: Number },
  STREAMLANE_LEAVE_GROUP_ON_CLOSE: { field: 'leaveGroupOnClose', parse: (v) => v === 'true' },
  STREAMLANE_METRICS_PORT: { field: 'metricsPort', parse: Number },
  STREAMLANE_METRICS_HOST: { field: 'metricsHost', parse: String },
  STREAMLANE_METRICS_TOKEN: { field: 'metricsToken', parse: String },
  STREAMLANE_METRICS_TOKEN_FILE: { field: 'metricsTokenFile', parse: String },
  STREAMLANE_METRICS_TLS_CERT_FILE: { field: 'metricsTlsCertFile', parse: String },
  STREAMLANE_METRICS_TLS_KEY_FILE: { field: 'metricsTlsKeyFile', parse: String },
  STREAMLANE_METRICS_PARTITION_SERIES: { field: 'metricsPartitionSeries', parse: Number },
  STREAMLANE_SCALER_REPORT_TOKEN: { field: 'scalerReportToken', parse: String },
  STREAMLANE_SCALER_REPORT_TOKEN_FILE: { field: 'scalerReportTokenFile', parse: String },
  STREAMLANE_QUERY_MAX_CONCURRENT: { field: 'queryMaxConcurrent', parse: Number },
  STREAMLANE_QUERY_MAX_RATE: { field: 'queryMaxRate', parse: Number },
  STREAMLANE_QUERY_TOKEN: { field: 'queryToken', parse: String },
  STREAMLANE_QUERY_TOKEN_FILE: { field: 'queryTokenFile', parse: String },
  STREAMLANE_QUERY_PEER_CA_FILE: { field: 'queryPeerCaFile', parse: String }
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): Partial<StreamsConfigInput> {
  const fromEnv: Record<string, unknown> = {}
  for (const [name, { field, parse }] of Object.entries(environmentOptions)) {
    const value = env[name]
    if (value !== undefined && value !== '') fromEnv[field] = parse(value)
  }
  const security = kafkaSecurityFromEnvironment(env)
  if (security) fromEnv.security = security
  return fromEnv as Partial<StreamsConfigInput>
}

/**
 * Validates and completes a configuration. Layers, later wins: the app module's config, a config file's, the
 * environment's.
 */
export function resolveConfig(...layers: Partial<StreamsConfigInput>[]): StreamsConfig {
  const merged = Object.assign({}, ...layers) as Record<string, unknown>
  // A resolved config may come back as a layer (the CLI resolves, then the app does): its derived field is recomputed.
  delete merged.guarantee
  // Security merges field by field: the environment may add a password file to the module's mechanism and user.
  const security = mergeKafkaSecurity(...layers.map((layer) => layer.security))
  if (security) merged.security = security
  const result = streamsConfigSchema.safeParse(merged)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const field = issue.path.length > 0 ? issue.path.join('.') : 'config'
    const unknown = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : ''
    throw new ConfigError(field, `${issue.message}${unknown}`)
  }
  const config = result.data
  if (config.maxConcurrencyPerTask > 1 && config.processingOrder !== 'key') {
    throw new ConfigError(
      'maxConcurrencyPerTask',
      `${config.maxConcurrencyPerTask} runs records of one partition at once, which processingOrder 'partition' ` +
        "(one record at a time per task) forbids: set processingOrder 'key' (records of one key stay in order) or " +
        'maxConcurrencyPerTask 1'
    )
  }
  const guarantee = guaranteeSettings(config.processingGuarantee)
  return {
    ...config,
    clientId: config.clientId ?? `${config.applicationId}-${config.groupInstanceId ?? hostname()}`,
    commitIntervalMs: config.commitIntervalMs ?? guarantee.defaultCommitIntervalMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs(config.sessionTimeoutMs),
    guarantee
  }
}
