/**
 * The count processor the tests share: counts records per key (or per value) in the store `counts` and forwards each
 * new count, as the DSL's count does; through the cache's flush listener when the store is cached.
 */
import { Headers } from '../../src/serde/index.ts'
import type { KeyValueStore } from '../../src/state/index.ts'
import type { Processor, ProcessorContext, StreamRecord } from '../../src/topology/index.ts'

/** A supplier for `Topology.addProcessor`: counts by the record's key (default) or by its value. */
export function countProcessor(by: 'key' | 'value' = 'key'): () => Processor<string, string, string, number> {
  const counted = (record: StreamRecord<string, string>): string => (by === 'key' ? record.key : record.value)
  return () => {
    let context: ProcessorContext<string, number>
    let store: KeyValueStore<string, number>
    let cached = false
    return {
      init(c) {
        context = c
        store = c.getStateStore<KeyValueStore<string, number>>('counts')
        cached = store.setFlushListener(({ key, newValue, timestamp }) => {
          void context.forward({ key, value: newValue ?? 0, timestamp, headers: Headers.empty })
        }, false)
      },
      process(record) {
        const key = counted(record)
        const count = (store.get(key) ?? 0) + 1
        store.put(key, count)
        if (!cached) return context.forward({ key, value: count, timestamp: record.timestamp, headers: record.headers })
      }
    }
  }
}
