import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka'
import { type KafkaConnectionOptions, libraryOptions, resolveConnectionOptions } from '../connection.ts'
import { translateKafkaError } from '../errors.ts'

/**
 * Share-group settings the broker keeps per group (KIP-932 group configs), set with IncrementalAlterConfigs on the
 * GROUP resource. They can be set before the group exists. The broker bounds them by its own
 * `group.share.min/max.*` settings.
 */
export interface ShareGroupConfig {
  /** Where a share partition starts when the group first reads it: `earliest`, `latest` (Kafka's default), or `by_duration:PnDTnHnMn.nS`. */
  autoOffsetReset?: string
  /** The acquisition lock: an unacknowledged record comes back after this long. Kafka's default 30000. */
  recordLockDurationMs?: number
  /** Deliveries before a record is archived instead of redelivered. Kafka's default 5. */
  deliveryCountLimit?: number
  /** `read_committed` or `read_uncommitted` (Kafka's default). */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
}

const CONFIG_NAMES: Record<keyof ShareGroupConfig, string> = {
  autoOffsetReset: 'share.auto.offset.reset',
  recordLockDurationMs: 'share.record.lock.duration.ms',
  deliveryCountLimit: 'share.delivery.count.limit',
  isolationLevel: 'share.isolation.level'
}

export async function alterShareGroupConfig(
  options: KafkaConnectionOptions,
  groupId: string,
  config: ShareGroupConfig
): Promise<void> {
  const resolved = resolveConnectionOptions(options)
  const admin = new Admin(libraryOptions(resolved, 'share-admin'))
  const configs = Object.entries(config)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ({
      name: CONFIG_NAMES[key as keyof ShareGroupConfig],
      value: String(value),
      configOperation: IncrementalAlterConfigOperationTypes.SET
    }))
  try {
    await admin.incrementalAlterConfigs({
      resources: [{ resourceType: ConfigResourceTypes.GROUP, resourceName: groupId, configs }]
    })
  } catch (error) {
    throw translateKafkaError(error, { operation: 'alter share group config', groupId, brokers: resolved.brokers })
  } finally {
    await admin.close().catch(() => {})
  }
}
