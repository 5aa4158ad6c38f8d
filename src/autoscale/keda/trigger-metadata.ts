import { ConfigError } from '../../errors.ts'
import { parseScalingPolicyConfig, type ScalingPolicyConfig, scalingPolicyConfigSchema } from '../policy/config.ts'
import { ScalerInputError } from '../signals/errors.ts'
import { checkBrokers, checkGroup, type ScalerAccess } from './access-policy.ts'

/**
 * The `external` trigger's metadata (KEDA hands it over as strings in ScaledObjectRef.scalerMetadata) and the same
 * keys as metrics-api query parameters. Parsing is strict: a misspelt key is an error KEDA shows on the ScaledObject,
 * not a default silently applied.
 */
export interface ScalerTrigger {
  brokers: string[]
  groupId: string
  /**
   * Empty = every topic the group has committed on or is assigned. Either way the group's own repartition topics
   * (`<group>-<name>-repartition`, a Streamlane app's) are measured too.
   */
  topics: string[]
  allowUnknownGroup: boolean
  /**
   * `consumer` (default) or `share`: a share group (KIP-932) is measured by its backlog of unacknowledged records and
   * scaled up to maxReplicas, whatever its partition count (docs/share-groups.md).
   */
  groupType: 'consumer' | 'share'
  /** Sliding window for the arrival and commit rates. */
  rateWindowSeconds: number
  targets: PolicyTargets
}

/** Policy knobs a ScaledObject may set: exactly the policy's config fields (src/autoscale/policy/config.ts). */
export type PolicyTargets = ScalingPolicyConfig

const POLICY_KEYS = Object.keys(scalingPolicyConfigSchema.shape)

const DEFAULT_RATE_WINDOW_SECONDS = 60

/**
 * Most characters of metadata taken (keys and values together). Real triggers are a few hundred; the bound keeps a
 * caller from parking megabytes in the per-ScaledObject state (its signature) or the error messages.
 */
export const MAX_METADATA_CHARS = 16 * 1024

/** Keys KEDA itself uses on an external trigger (the address, TLS); accepted and ignored. */
const PASSTHROUGH_KEYS = new Set([
  'scalerAddress',
  'caCert',
  'tlsCertFile',
  'tlsClientCert',
  'tlsClientKey',
  'unsafeSsl',
  'enableTLS'
])

/**
 * KEDA's Kafka scaler takes credentials from the trigger (its authentication parameters); this scaler never does: it
 * connects with its own settings (--sasl-*, --ssl-*, KAFKA_*), so a ScaledObject cannot make it send credentials
 * anywhere, nor connect as someone else.
 */
const CREDENTIAL_KEYS = new Set(['sasl', 'username', 'password', 'tls', 'ca', 'cert', 'key', 'keyPassword'])

const KNOWN_KEYS = new Set([
  'bootstrapServers',
  'consumerGroup',
  'topics',
  'allowUnknownGroup',
  'groupType',
  'rateWindowSeconds',
  ...POLICY_KEYS
])

/**
 * Parses trigger metadata. `prefix` names where the keys came from in error messages (`metadata` for KEDA,
 * `query` for metrics-api), so `invalid metadata.maxReplicas: ...` points at the YAML line to fix.
 */
export function parseTriggerMetadata(
  metadata: Record<string, string | undefined>,
  prefix = 'metadata',
  defaultBrokers: readonly string[] = [],
  access: ScalerAccess = {}
): ScalerTrigger {
  let chars = 0
  for (const [key, value] of Object.entries(metadata)) chars += key.length + (value?.length ?? 0)
  if (chars > MAX_METADATA_CHARS) {
    throw new ScalerInputError(prefix, `${chars} characters of keys and values, more than ${MAX_METADATA_CHARS}`)
  }
  const unknown = Object.keys(metadata).filter((k) => !KNOWN_KEYS.has(k) && !PASSTHROUGH_KEYS.has(k))
  const credential = unknown.find((k) => CREDENTIAL_KEYS.has(k))
  if (credential !== undefined) {
    throw new ScalerInputError(
      `${prefix}.${credential}`,
      'Kafka credentials are not taken from a trigger: the scaler connects with its own (its --sasl-* and --ssl-* flags or KAFKA_* variables); remove the key'
    )
  }
  if (unknown.length > 0) {
    throw new ScalerInputError(
      `${prefix}.${unknown[0]}`,
      `unknown key (known: ${[...KNOWN_KEYS].join(', ')}); check its spelling`
    )
  }
  // The server's own default (--brokers / KAFKA_BROKERS) lets one scaler next to one cluster skip the key.
  const named = list(metadata.bootstrapServers)
  const brokers = named.length > 0 ? named : [...defaultBrokers]
  if (brokers.length === 0) {
    throw new ScalerInputError(
      `${prefix}.bootstrapServers`,
      'required (the scaler has no default brokers): a comma-separated list of host:port'
    )
  }
  for (const broker of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new ScalerInputError(`${prefix}.bootstrapServers`, `"${broker}" is not host:port`)
    }
  }
  // Checked before anything else is done with them: a refused address is never connected to.
  if (named.length > 0) checkBrokers(access, named, defaultBrokers, `${prefix}.bootstrapServers`)
  const groupId = metadata.consumerGroup?.trim() ?? ''
  if (!groupId) throw new ScalerInputError(`${prefix}.consumerGroup`, 'required: the consumer group to scale')
  checkGroup(access, groupId, prefix === 'query' ? 'group' : `${prefix}.consumerGroup`)

  const targets = policyTargets(metadata, prefix)
  let rateWindowSeconds = DEFAULT_RATE_WINDOW_SECONDS
  if (metadata.rateWindowSeconds !== undefined && metadata.rateWindowSeconds.trim() !== '') {
    rateWindowSeconds = Number(metadata.rateWindowSeconds)
    if (!Number.isFinite(rateWindowSeconds) || rateWindowSeconds < 1) {
      throw new ScalerInputError(`${prefix}.rateWindowSeconds`, `"${metadata.rateWindowSeconds}" is not a number >= 1`)
    }
  }

  const allowUnknownGroup = bool(metadata.allowUnknownGroup, `${prefix}.allowUnknownGroup`)
  const groupType = (metadata.groupType?.trim() || 'consumer').toLowerCase()
  if (groupType !== 'consumer' && groupType !== 'share') {
    throw new ScalerInputError(`${prefix}.groupType`, `"${metadata.groupType}" is not consumer or share`)
  }
  const topics = list(metadata.topics)
  if (allowUnknownGroup && topics.length === 0) {
    throw new ScalerInputError(`${prefix}.topics`, 'required when allowUnknownGroup=true (nothing else names them)')
  }
  return {
    brokers,
    groupId,
    topics,
    allowUnknownGroup,
    groupType,
    rateWindowSeconds,
    targets
  }
}

/**
 * Metadata values are strings; the policy's schema wants numbers and booleans. Values are converted by their look
 * and the schema judges them, so its messages (and its defaults) are the single source of truth.
 */
function policyTargets(metadata: Record<string, string | undefined>, prefix: string): PolicyTargets {
  const input: Record<string, unknown> = {}
  for (const key of POLICY_KEYS) {
    const raw = metadata[key]?.trim()
    if (raw === undefined || raw === '') continue
    input[key] = raw === 'true' ? true : raw === 'false' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw)
  }
  try {
    return parseScalingPolicyConfig(input)
  } catch (error) {
    if (error instanceof ConfigError) {
      const key = error.field.replace(/^autoscale\.policy\.?/, '')
      throw new ScalerInputError(`${prefix}.${key}`, error.message.replace(/^invalid configuration \S+: /, ''))
    }
    throw error
  }
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function bool(value: string | undefined, field: string): boolean {
  if (value === undefined || value.trim() === '') return false
  const v = value.trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  throw new ScalerInputError(field, `"${value}" is not true or false`)
}
