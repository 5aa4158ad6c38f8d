import type { Serde } from '../serde/index.ts'
import type { KeyValueStore, TimestampedKeyValueStore } from '../state/index.ts'
import type { ProcessorContext, ProcessorSupplier, StreamRecord } from '../topology/index.ts'
import { forEachInOrder } from '../topology/index.ts'
import type { Change } from './change.ts'
import {
  type CombinedKey,
  type Subscription,
  type SubscriptionInstruction,
  type SubscriptionResponse,
  sameHash,
  valueHash
} from './foreign-key-join-serdes.ts'
import type { ValueJoiner } from './joined.ts'

/**
 * The processors of a foreign-key table join (Kafka Streams' foreignkeyjoin package), in the order a left update
 * flows through them: send (left side) -> subscription topic -> receive, join with the right value (right side) ->
 * response topic -> resolve (left side). A right update goes straight to its subscribers' responses.
 */

const isNullKey = (key: unknown): boolean => key === null || key === undefined

/**
 * Left side: turns a left table change into subscriptions (Kafka Streams' SubscriptionSendProcessorSupplier): the new
 * foreign key is subscribed, an old one that changed is unsubscribed. Foreign keys are compared by their bytes.
 */
export function subscriptionSendProcessor<K, V, KO>(
  foreignKeyOf: (value: V, key: K) => KO | null,
  foreignKeySerde: Serde<KO>,
  leftValueSerde: Serde<V>,
  serdeTopic: string,
  leftJoin: boolean
): ProcessorSupplier<K, Change<V>, KO | null, Subscription<K>> {
  return () => {
    let context: ProcessorContext<KO | null, Subscription<K>>
    return {
      init(c) {
        context = c
      },
      process(record) {
        const { newValue, oldValue } = record.value
        const hash = valueHash(newValue === null ? null : leftValueSerde.serialize(serdeTopic, newValue))
        const out: [KO | null, SubscriptionInstruction][] = []
        const oldKey = oldValue === null ? null : normalize(foreignKeyOf(oldValue, record.key))
        const newKey = newValue === null ? null : normalize(foreignKeyOf(newValue, record.key))
        const changed = () => !sameBytes(foreignKeySerde, serdeTopic, oldKey, newKey)
        if (leftJoin) {
          if (oldValue === null && newValue === null) return // a delete of an absent key: no result to change
          if (oldKey !== null && changed()) out.push([oldKey, 'delete-no-propagate'])
          // Always answered, even for a null foreign key: a left join has a result for every left value.
          out.push([newKey, 'propagate-null-if-no-value'])
        } else if (newValue === null) {
          if (oldKey !== null) out.push([oldKey, 'delete-and-propagate'])
        } else if (newKey === null) {
          context.recordDropped('null-key', 'a foreign-key join skips a left value whose foreign key is null')
          if (oldKey !== null) out.push([oldKey, 'delete-and-propagate'])
        } else if (oldKey === null) {
          out.push([newKey, 'propagate-only-if-value'])
        } else if (changed()) {
          out.push([oldKey, 'delete-no-propagate'], [newKey, 'propagate-null-if-no-value'])
        } else {
          out.push([newKey, 'propagate-only-if-value'])
        }
        const primaryPartition = context.taskId.partition
        return forEachInOrder(out, ([key, instruction]) =>
          context.forward({ ...record, key, value: { hash, instruction, primaryKey: record.key, primaryPartition } })
        )
      }
    }
  }
}

const normalize = <T>(value: T | null | undefined): T | null => (value === undefined ? null : value)

function sameBytes<KO>(serde: Serde<KO>, topic: string, a: KO | null, b: KO | null): boolean {
  if (a === null || b === null) return a === b
  const x = serde.serialize(topic, a)
  const y = serde.serialize(topic, b)
  return x === null || y === null ? x === y : x.equals(y)
}

/** A subscription as it travels from the receiving node to the join: its key in the subscription store. */
export type ReceivedSubscription<KO, K> = StreamRecord<CombinedKey<KO | null, K>, Subscription<K>>

/**
 * Right side: keeps each subscription in the subscription store, keyed by foreign key then primary key (Kafka
 * Streams' SubscriptionReceiveProcessorSupplier). A subscription without a foreign key is only passed on (a left
 * join's answer with no right value).
 */
export function subscriptionReceiveProcessor<KO, K>(
  subscriptionStoreName: string
): ProcessorSupplier<KO | null, Subscription<K>, CombinedKey<KO | null, K>, Subscription<K>> {
  return () => {
    let context: ProcessorContext<CombinedKey<KO | null, K>, Subscription<K>>
    let store: KeyValueStore<CombinedKey<KO, K>, Subscription<K>>
    return {
      init(c) {
        context = c
        store = c.getStateStore(subscriptionStoreName)
      },
      process(record) {
        const subscription = record.value
        if (subscription === null) return
        const foreignKey = isNullKey(record.key) ? null : record.key
        if (foreignKey === null && subscription.instruction !== 'propagate-null-if-no-value') {
          context.recordDropped('null-key', 'a foreign-key join subscription without a foreign key is skipped')
          return
        }
        const key = { foreignKey, primaryKey: subscription.primaryKey }
        if (foreignKey !== null) {
          const deletes = subscription.instruction === 'delete-no-propagate'
          const stored = key as CombinedKey<KO, K>
          if (deletes || subscription.instruction === 'delete-and-propagate') store.delete(stored)
          else store.put(stored, subscription)
        }
        return context.forward({ ...record, key })
      }
    }
  }
}

/**
 * Right side: answers a subscription with the right table's current value for its foreign key, as its instruction
 * says, stamped with the later of the two timestamps (Kafka Streams' SubscriptionJoinProcessorSupplier).
 */
export function subscriptionJoinProcessor<KO, K, VO>(
  rightStoreName: string
): ProcessorSupplier<CombinedKey<KO | null, K>, Subscription<K>, K, SubscriptionResponse<VO>> {
  return () => {
    let context: ProcessorContext<K, SubscriptionResponse<VO>>
    let right: TimestampedKeyValueStore<KO, VO>
    return {
      init(c) {
        context = c
        right = c.getStateStore(rightStoreName)
      },
      process(record) {
        const { foreignKey, primaryKey } = record.key
        const { instruction, hash, primaryPartition } = record.value
        const found = foreignKey === null ? null : right.get(foreignKey)
        const timestamp = found === null ? record.timestamp : Math.max(record.timestamp, found.timestamp)
        let foreignValue: VO | null
        if (instruction === 'delete-no-propagate') return
        if (instruction === 'delete-and-propagate') foreignValue = null
        else if (instruction === 'propagate-only-if-value' && found === null) return
        else foreignValue = found === null ? null : found.value
        return context.forward({
          key: primaryKey,
          value: { hash, foreignValue, primaryPartition },
          timestamp,
          headers: record.headers
        })
      }
    }
  }
}

/**
 * Right side: a right table change answers every subscriber of its key with the new right value, stamped with the
 * change's timestamp (Kafka Streams' ForeignTableJoinProcessorSupplier).
 */
export function foreignTableJoinProcessor<KO, K, VO>(
  subscriptionStoreName: string,
  prefixSerde: Serde<KO>
): ProcessorSupplier<KO, Change<VO>, K, SubscriptionResponse<VO>> {
  return () => {
    let context: ProcessorContext<K, SubscriptionResponse<VO>>
    let store: KeyValueStore<CombinedKey<KO, K>, Subscription<K>>
    return {
      init(c) {
        context = c
        store = c.getStateStore(subscriptionStoreName)
      },
      process(record) {
        if (isNullKey(record.key)) {
          context.recordDropped('null-key', 'a foreign-key join skips right table records with a null key')
          return
        }
        const subscribers = [...store.prefixScan(record.key, prefixSerde)]
        return forEachInOrder(subscribers, ({ key, value }) =>
          context.forward({
            ...record,
            key: key.primaryKey,
            value: { hash: value.hash, foreignValue: record.value.newValue, primaryPartition: value.primaryPartition }
          })
        )
      }
    }
  }
}

/**
 * Left side: joins an answer with the left table's current value, unless that value is not the one the answer was
 * for (its hash differs: the left value changed since, and a newer answer is on its way). Forwards the result, or
 * null to delete it (Kafka Streams' ResponseJoinProcessorSupplier).
 */
export function responseResolveProcessor<K, V, VO, VR>(
  leftStoreName: string,
  leftValueSerde: Serde<V>,
  serdeTopic: string,
  joiner: ValueJoiner<K, V, VO | null, VR>,
  leftJoin: boolean
): ProcessorSupplier<K, SubscriptionResponse<VO>, K, VR | null> {
  return () => {
    let context: ProcessorContext<K, VR | null>
    let left: TimestampedKeyValueStore<K, V>
    return {
      init(c) {
        context = c
        left = c.getStateStore(leftStoreName)
      },
      process(record) {
        const current = left.get(record.key)
        const currentValue = current === null ? null : current.value
        const currentHash = valueHash(currentValue === null ? null : leftValueSerde.serialize(serdeTopic, currentValue))
        if (!sameHash(record.value.hash, currentHash)) return // stale: answers a left value replaced since
        const { foreignValue } = record.value
        const result =
          foreignValue === null && (!leftJoin || currentValue === null)
            ? null
            : joiner(currentValue as V, foreignValue, record.key)
        return context.forward({ ...record, value: result })
      }
    }
  }
}

/** The join's result as a table that is not materialized: each result is a change with no old value. */
export function unmaterializedResultProcessor<K, VR>(): ProcessorSupplier<K, VR | null, K, Change<VR>> {
  return () => {
    let context: ProcessorContext<K, Change<VR>>
    return {
      init(c) {
        context = c
      },
      process: (record) => context.forward({ ...record, value: { newValue: record.value, oldValue: null } })
    }
  }
}
