/**
 * The reference every app benchmark is held to: a careful hand-written consume -> produce loop on the same Kafka
 * layer, without group, tasks, serdes or commits. Reads every partition of `input` from the start and forwards
 * each record (through `transform`, if given) to `output`, timed until the output holds them all.
 */
import { createPartitionReader, OFFSET_EARLIEST } from '../../src/kafka/partition-reader.ts'
import { createProducer } from '../../src/kafka/producer.ts'
import type { ProducerRecord } from '../../src/kafka/types.ts'
import type { BenchContext } from './bench-context.ts'
import { type CpuReading, startCpuMeter } from './cpu-meter.ts'
import { RECORDS_PER_SEND, SendWindow, waitForRecords } from './records.ts'

export interface RawLoopRun {
  cpu: CpuReading
  /** Until the reader was positioned (metadata, ListOffsets). */
  startupSeconds: number
}

export async function runRawConsumeProduce(
  ctx: BenchContext,
  options: {
    input: string
    output: string
    partitions: number
    records: number
    transform?: (value: Buffer | null) => Buffer | null
  }
): Promise<RawLoopRun> {
  const { input, output, partitions, records, transform } = options
  const meter = startCpuMeter(ctx.brokerPid)
  const reader = createPartitionReader({
    brokers: ctx.brokers,
    clientId: 'bench-raw-reader',
    isolation: 'read_uncommitted'
  })
  const producer = createProducer({ brokers: ctx.brokers, clientId: 'bench-raw-producer' })
  try {
    await reader.assign(
      Array.from({ length: partitions }, (_, partition) => ({ topic: input, partition, offset: OFFSET_EARLIEST }))
    )
    const startupSeconds = meter.stop().wallSeconds
    // The same end-of-run detection as the apps', so both pay the same polling and the same lateness.
    const done = waitForRecords(ctx.admin, output, records)
    const window = new SendWindow(producer)
    let read = 0
    while (read < records) {
      const batch = await reader.poll(100)
      read += batch.length
      for (let start = 0; start < batch.length; start += RECORDS_PER_SEND) {
        const end = Math.min(batch.length, start + RECORDS_PER_SEND)
        const out = new Array<ProducerRecord>(end - start)
        for (let i = start; i < end; i++) {
          const r = batch[i]!
          out[i - start] = {
            topic: output,
            key: r.key,
            value: transform ? transform(r.value) : r.value,
            timestamp: r.timestamp
          }
        }
        await window.send(out)
      }
    }
    await window.drain()
    await done
    return { cpu: meter.stop(), startupSeconds }
  } finally {
    await Promise.all([reader.close(), producer.close()])
  }
}
