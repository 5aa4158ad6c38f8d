import assert from 'node:assert/strict'
import { test } from 'node:test'
import { appTopics } from '../../../src/cli/app-topics.ts'
import { describeResetPlan, planReset, type ResetFacts } from '../../../src/cli/reset-plan.ts'
import { ErrorHandlers, Materialized, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { planTopology } from '../../../src/topology/index.ts'

/** lines -> re-keyed words (repartition) -> count (changelog) -> word-counts; plus a pattern source. */
function wordCountPlan() {
  const builder = new StreamsBuilder()
  builder
    .stream('lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .flatMapValues((line) => (line ?? '').split(' '))
    .groupBy((_, word) => word, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
    .count(Materialized.as('counts'))
    .toStream()
    .to('word-counts', { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  builder.stream(/audit-.*/).to('audit-all')
  return planTopology(builder.build(), 'wc')
}

test("an app's topics by role: inputs (pattern matches included), outputs, internal, dead-letter", () => {
  const topics = appTopics(wordCountPlan(), ['lines', 'audit-eu', 'audit-us', 'wc-x-repartition', 'other'], {
    deserialization: ErrorHandlers.deadLetter('lines-dlq'),
    production: ErrorHandlers.logAndContinue()
  })
  assert.deepEqual(topics.inputs, ['audit-eu', 'audit-us', 'lines'])
  assert.deepEqual(topics.outputs, ['audit-all', 'word-counts'])
  assert.deepEqual(topics.internal, ['wc-counts-changelog', 'wc-counts-repartition'])
  assert.deepEqual(topics.deadLetters, ['lines-dlq'])
  assert.deepEqual(
    topics.patterns.map((p) => p.source),
    ['audit-.*']
  )
})

function facts(overrides: Partial<ResetFacts> = {}): ResetFacts {
  const existingTopics = ['lines', 'word-counts', 'wc-counts-repartition', 'wc-counts-changelog', 'wc-old-changelog']
  return {
    applicationId: 'wc',
    topics: appTopics(wordCountPlan(), existingTopics),
    existingTopics,
    target: { kind: 'earliest' },
    targetOffsets: new Map([
      [
        'lines',
        new Map([
          [1, 0n],
          [0, 5n]
        ])
      ]
    ]),
    committed: [
      { topic: 'lines', partition: 0, offset: 40n },
      { topic: 'lines', partition: 1, offset: -1n }
    ],
    stateDir: { path: '/var/lib/streamlane/wc', exists: true },
    ...overrides
  }
}

test('the reset plan rewinds every input partition, deletes the existing internal topics, wipes the state dir', () => {
  const plan = planReset(facts())
  assert.deepEqual(plan.offsets, [
    { topic: 'lines', partition: 0, from: 40n, to: 5n },
    { topic: 'lines', partition: 1, from: null, to: 0n }
  ])
  assert.deepEqual(plan.deleteTopics, ['wc-counts-changelog', 'wc-counts-repartition'])
  assert.deepEqual(plan.missingInputs, [])
  assert.deepEqual(plan.otherInternalLooking, ['wc-old-changelog'])
  assert.equal(plan.wipeStateDir, '/var/lib/streamlane/wc')
})

test('missing inputs, internal topics and state dir are reported, not acted on', () => {
  const plan = planReset(
    facts({ existingTopics: [], targetOffsets: new Map(), committed: [], stateDir: { path: '/s/wc', exists: false } })
  )
  assert.deepEqual(plan.offsets, [])
  assert.deepEqual(plan.missingInputs, ['lines'])
  assert.deepEqual(plan.deleteTopics, [])
  assert.equal(plan.wipeStateDir, null)
  assert.deepEqual(describeResetPlan(plan, false), [
    'resetting application wc (consumer group wc)',
    'no input offsets to move',
    '  input topic lines does not exist: nothing to rewind',
    'no internal topics to delete',
    'no local state directory to wipe'
  ])
})

test('the dry run says what would be done, to the offset and the time', () => {
  const plan = planReset(facts({ target: { kind: 'datetime', timestampMs: Date.parse('2026-12-07T09:00:00Z') } }))
  assert.deepEqual(describeResetPlan(plan, true), [
    'dry run: would reset application wc (consumer group wc)',
    "would move the group's input offsets to 2026-12-07T09:00:00.000Z:",
    '  lines partition 0: 40 -> 5',
    '  lines partition 1: none committed -> 0',
    'would delete internal topics:',
    '  wc-counts-changelog',
    '  wc-counts-repartition',
    'left alone, not internal topics of this topology: wc-old-changelog',
    'would wipe local state directory /var/lib/streamlane/wc'
  ])
})

test("a share group app's dead-letter topic is created with the others", () => {
  const topics = appTopics(wordCountPlan(), [], { processing: ErrorHandlers.deadLetter('lines-dlq') }, [
    'jobs-dlq',
    undefined
  ])
  assert.deepEqual(topics.deadLetters, ['jobs-dlq', 'lines-dlq'])
})
