import type { ProducedRecord } from '../topology/index.ts'
import type { OutputLog } from './test-output-topic.ts'

/**
 * The driver's stand-in for the broker's topics: one partition per topic, an offset counter per topic and the log of
 * what was written to it (read by output topics). Piped input takes offsets from the same counters, so a topic's
 * offsets are unique whether its records were piped or written by the topology.
 */
export class TopicLogs {
  readonly #logs = new Map<string, OutputLog>()
  readonly #nextOffset = new Map<string, number>()

  /** A topic's log, created empty on first use (an output topic may be made before anything is written). */
  log(topic: string): OutputLog {
    let log = this.#logs.get(topic)
    if (!log) {
      log = { records: [], position: 0 }
      this.#logs.set(topic, log)
    }
    return log
  }

  /** Appends to a topic's log; returns the offset. */
  append(record: ProducedRecord): number {
    const offset = this.takeOffset(record.topic)
    this.log(record.topic).records.push({ ...record, offset })
    return offset
  }

  /** The next offset of a topic, taken. */
  takeOffset(topic: string): number {
    const offset = this.#nextOffset.get(topic) ?? 0
    this.#nextOffset.set(topic, offset + 1)
    return offset
  }

  /** The offset the next record of a topic will get (0 for a topic never written). */
  endOffset(topic: string): number {
    return this.#nextOffset.get(topic) ?? 0
  }

  /** Topics written to so far. */
  producedTopicNames(): string[] {
    return [...this.#logs].filter(([, log]) => log.records.length > 0).map(([topic]) => topic)
  }
}
