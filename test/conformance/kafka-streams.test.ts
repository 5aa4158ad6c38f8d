/**
 * The differential suite: every case of the catalogue (cases.ts) runs through Kafka Streams' own TopologyTestDriver
 * (one JVM for all of them) and through Streamlane's; the output records (topic, key, value, timestamp, and the input
 * after which each appeared) must be equal, except where differences.ts lists a deliberate difference.
 */
import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { catalogue } from './cases.ts'
import { type CaseOutput, describeDifference, firstDifference } from './compare.ts'
import { differencesFor } from './differences.ts'
import { runKafkaStreams } from './kafka-streams-peer.ts'
import { runStreamlane } from './streamlane-runner.ts'

const cases = catalogue()

describe('Streamlane gives Kafka Streams results (differential suite against TopologyTestDriver)', () => {
  let reference: Map<string, CaseOutput>
  before(async () => {
    reference = await runKafkaStreams(cases)
  })
  for (const c of cases) {
    test(c.id, async (t) => {
      const theirs = reference.get(c.id)
      assert.ok(theirs?.done, `Kafka Streams did not finish case ${c.id}: ${theirs?.error ?? 'no output'}`)
      const ours = await runStreamlane(c)
      assert.equal(ours.error, null, `Streamlane failed case ${c.id}`)
      const differences = differencesFor(c)
      let kafkaStreams = theirs.records
      let streamlane = ours.records
      for (const d of differences) {
        if (d.normalize === undefined) continue
        kafkaStreams = d.normalize(kafkaStreams, 'kafka-streams', c)
        streamlane = d.normalize(streamlane, 'streamlane', c)
      }
      const normalized = differences.filter((d) => d.normalize !== undefined).map((d) => d.name)
      const index = firstDifference(kafkaStreams, streamlane)
      if (index === -1) {
        t.diagnostic(
          normalized.length === 0 ? 'equal record for record' : `equal once normalized: ${normalized.join('; ')}`
        )
        return
      }
      const context = { c, index, kafkaStreams, streamlane }
      const explained = differences.find((d) => d.explains?.(context))
      if (explained !== undefined) {
        t.diagnostic(`equal up to record ${index}, then differs as listed: ${explained.name}`)
        return
      }
      const listed =
        differences.length > 0
          ? `\n(deliberate differences considered: ${differences.map((d) => d.name).join('; ')})`
          : ''
      assert.fail(`${describeDifference(c, kafkaStreams, streamlane)}${listed}`)
    })
  }
})
