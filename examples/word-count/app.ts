/**
 * Counts words: lines of text in, the running count of every word out. Words are re-keyed and go through a
 * repartition topic (`word-count-counts-repartition`) so that each word is counted by one task; the counts live in
 * the store `counts`, logged to `word-count-counts-changelog`, from which a restarted or moved task rebuilds them.
 *
 *   streamlane run examples/word-count/app.ts     (KAFKA_BROKERS; topics from the env or the defaults below)
 *
 * Output: `word-counts`, key the word (string), value its count (8-byte long, as Kafka's LongSerializer writes it).
 * With the record cache on (the default), a word's count is written once per commit, not once per occurrence.
 */
import { defineApp, Materialized, Serdes, StreamsBuilder, type Topology } from '../../src/index.ts'

export const topics = {
  lines: process.env.LINES_TOPIC ?? 'lines',
  counts: process.env.WORD_COUNTS_TOPIC ?? 'word-counts'
}

/** Lower-case words of a line: letters and digits, anything else separates. */
export function wordsOf(line: string): string[] {
  return line
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
}

export function wordCount(): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(topics.lines, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => (line === null ? [] : wordsOf(line)))
    .groupBy((_, word) => word, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .count(Materialized.as('counts'))
    .toStream()
    .to(topics.counts, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  return builder.build()
}

export default defineApp({
  topology: wordCount,
  config: { applicationId: 'word-count' }
})
