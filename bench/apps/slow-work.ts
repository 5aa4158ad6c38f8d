/**
 * The worker of the share-groups benchmark, run by the local autoscaler as `streamlane run bench/apps/slow-work.ts`:
 * every record takes PER_RECORD_MS (default 1 s) of asynchronous work, then its value is written to OUTPUT_TOPIC with
 * the worker's pid, so the benchmark can count records processed more than once. With SHARE_GROUP=1 the app runs on
 * a share group (SHARE_CONCURRENCY records at a time per instance, default 1), otherwise on a consumer group (its tasks
 * run concurrently, one record in flight per partition).
 */
import { setTimeout as delay } from 'node:timers/promises'
import { defineApp, type ProcessorContext, Serdes, StreamsBuilder } from '../../src/index.ts'

const perRecordMs = Number(process.env.PER_RECORD_MS ?? 1_000)

export default defineApp({
  topology: () => {
    const builder = new StreamsBuilder()
    builder
      .stream(process.env.INPUT_TOPIC!, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .process<string, string>(() => {
        let context: ProcessorContext<string, string>
        return {
          init(ctx) {
            context = ctx
          },
          async process(record) {
            await delay(perRecordMs)
            await context.forward({ ...record, value: `${record.value} ${process.pid}` })
          }
        }
      })
      .to(process.env.OUTPUT_TOPIC!, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    return builder.build()
  },
  config: {
    commitIntervalMs: 1_000,
    ...(process.env.SHARE_GROUP === '1'
      ? {
          shareGroup: {
            concurrency: Number(process.env.SHARE_CONCURRENCY ?? 1),
            autoOffsetReset: 'earliest',
            recordLockDurationMs: 15_000
          }
        }
      : {})
  }
})
