/**
 * Records for benchmarks and the loops that move them: payloads, producing N records the way the runtime does (many
 * records per send() call, several calls in flight), and waiting until a topic holds N records.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaProducer } from '../../src/kafka/producer.ts'
import type { ProducerRecord } from '../../src/kafka/types.ts'

/** The runtime's ProducerRecordCollector hands the producer 2,000 records per send() call. */
export const RECORDS_PER_SEND = 2_000
/** Sends awaited at most at once: 64 x 2,000 records, enough to fill every request the producer sends. */
export const SENDS_IN_FLIGHT = 64

/** `size` bytes of lowercase ASCII letters, random but fixed by `seed` (so runs are comparable). */
export function textPayload(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size)
  let state = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    bytes[i] = 97 + ((state >>> 0) % 26)
  }
  return bytes
}

/**
 * Producer calls in flight, bounded: send() hands records over without waiting for their acknowledgement unless
 * SENDS_IN_FLIGHT calls are already unacknowledged; drain() waits for all. The runtime's collector does the same
 * (it awaits everything on commit).
 */
export class SendWindow {
  readonly #producer: KafkaProducer
  readonly #inFlight = new Set<Promise<unknown>>()
  #failure: unknown

  constructor(producer: KafkaProducer) {
    this.#producer = producer
  }

  async send(records: ProducerRecord[]): Promise<void> {
    const sending: Promise<unknown> = this.#producer.send(records).then(
      () => this.#inFlight.delete(sending),
      (error: unknown) => {
        this.#failure ??= error
        this.#inFlight.delete(sending)
      }
    )
    this.#inFlight.add(sending)
    if (this.#inFlight.size >= SENDS_IN_FLIGHT) await Promise.race(this.#inFlight)
    if (this.#failure) throw this.#failure
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inFlight)
    await this.#producer.flush()
    if (this.#failure) throw this.#failure
  }
}

/** Sends `count` records built by `build(i)` in calls of RECORDS_PER_SEND; resolves once all are acknowledged. */
export async function sendAll(
  producer: KafkaProducer,
  count: number,
  build: (index: number) => ProducerRecord
): Promise<void> {
  const window = new SendWindow(producer)
  for (let start = 0; start < count; start += RECORDS_PER_SEND) {
    const end = Math.min(count, start + RECORDS_PER_SEND)
    const records = new Array<ProducerRecord>(end - start)
    for (let i = start; i < end; i++) records[i - start] = build(i)
    await window.send(records)
  }
  await window.drain()
}

/** Sum of the end offsets (high watermarks) of every partition of `topic`. */
export async function endOffsetTotal(admin: KafkaAdmin, topic: string): Promise<number> {
  const offsets = await admin.listOffsets([{ topic }], 'latest')
  let total = 0
  for (const offset of offsets.get(topic)?.values() ?? []) total += Number(offset)
  return total
}

/**
 * Resolves once `topic` holds `count` records (the sum of its end offsets; acks=all on one replica moves the high
 * watermark when a write is acknowledged). Checks every `intervalMs`, so the end is seen at most that late.
 */
export async function waitForRecords(
  admin: KafkaAdmin,
  topic: string,
  count: number,
  options: { intervalMs?: number; timeoutMs?: number; failed?: () => Error | undefined } = {}
): Promise<void> {
  const { intervalMs = 50, timeoutMs = 300_000 } = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const failure = options.failed?.()
    if (failure) throw failure
    const total = await endOffsetTotal(admin, topic)
    if (total >= count) return
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms: ${topic} holds ${total} of ${count} records`)
    }
    await delay(intervalMs)
  }
}
