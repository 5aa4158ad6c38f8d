/**
 * What the processing loop measures as it goes, once per iteration (never per record): how long poll, process and
 * punctuate took, and how many records poll returned. End-to-end latency is the exception: it is observed per record
 * at the sinks, into an allocation-free histogram, against a wall clock read once per iteration (as Kafka Streams
 * does with its cached system time).
 */
import { BucketHistogram } from './bucket-histogram.ts'

export class LoopMetrics {
  /** Seconds each poll took, waiting for records included (Kafka Streams' poll-latency). */
  readonly poll = new BucketHistogram()
  /** Seconds each iteration spent processing records, for iterations that processed any. */
  readonly process = new BucketHistogram()
  /** Seconds each wall-clock punctuation round took, for rounds where a punctuator ran. */
  readonly punctuate = new BucketHistogram()
  /** Wall clock minus the record's timestamp when a sink sends it: how stale the output is. */
  readonly endToEnd = new BucketHistogram()
  polledRecords = 0
  /** The iteration's wall clock (epoch ms), read once per loop iteration for the end-to-end latency. */
  wallClockMs = Date.now()

  /** A sink sent a record with this timestamp. */
  recordAtSink(timestampMs: number): void {
    const ms = this.wallClockMs - timestampMs
    this.endToEnd.observe(ms > 0 ? ms / 1000 : 0)
  }
}
