import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ProducerRecord } from '../../../src/kafka/types.ts'
import type { ProductionFailure } from '../../../src/runtime/producer-collector.ts'
import { productionFailureHandler } from '../../../src/runtime/production-failure-handler.ts'
import { Headers } from '../../../src/serde/headers.ts'
import {
  type ErrorHandler,
  ErrorHandlers,
  type ProducedRecord,
  type ProducedRecordOrigin,
  ProductionError,
  TaskId
} from '../../../src/topology/index.ts'

const taskId = new TaskId(0, 1)

function refused(topics: string[]): ProductionFailure {
  const records: ProducerRecord[] = topics.map((topic) => ({
    topic,
    key: null,
    value: Buffer.from(topic),
    headers: []
  }))
  const origins: ProducedRecordOrigin[] = topics.map((_, i) => ({
    taskId,
    sinkName: 'to-output',
    sourceRecord: {
      topic: 'input',
      partition: 1,
      offset: i,
      timestamp: 0,
      key: null,
      value: Buffer.from(`in-${i}`),
      headers: Headers.empty
    }
  }))
  return { error: new Error('RECORD_TOO_LARGE'), records, origins }
}

const deadLetter = ErrorHandlers.deadLetter('dlq', { logger: { warn() {} } })

function setup(handler: ErrorHandler | undefined) {
  const sent: { record: ProducedRecord; origin: ProducedRecordOrigin }[] = []
  const skips: number[] = []
  const warnings: string[] = []
  const handle = productionFailureHandler({
    handler,
    changelogTopics: new Map([['app-store-changelog', {}]]),
    countSkip: (deadLettered) => skips.push(deadLettered),
    send: (record, origin) => sent.push({ record, origin }),
    logger: { warn: (_fields: unknown, message: string) => warnings.push(message) }
  })
  return { handle, sent, skips, warnings }
}

test('without a production handler every refused record fails, naming the sink and the input record', () => {
  const { handle } = setup(undefined)
  assert.throws(
    () => handle(refused(['output'])),
    (error) => error instanceof ProductionError && error.sinkName === 'to-output' && error.topic === 'output'
  )
})

test('a dead-letter handler skips each refused record and sends its dead-letter record in its place', () => {
  const { handle, sent, skips, warnings } = setup(deadLetter)
  handle(refused(['output', 'output']))
  assert.deepEqual(skips, [1, 1])
  assert.deepEqual(
    sent.map(({ record, origin }) => [record.topic, record.value?.toString(), origin.sinkName]),
    [
      ['dlq', 'in-0', 'to-output'],
      ['dlq', 'in-1', 'to-output']
    ]
  )
  assert.deepEqual(warnings, ['records the broker refused were skipped'])
})

test('a refused changelog write fails even when the handler would skip it', () => {
  const { handle, sent, skips } = setup(deadLetter)
  assert.throws(() => handle(refused(['output', 'app-store-changelog'])), ProductionError)
  assert.deepEqual(sent, [])
  assert.deepEqual(skips, [])
})

test('a handler that fails one record fails with that record', () => {
  let calls = 0
  const { handle, skips } = setup({
    name: 'second fails',
    handle: () => (++calls === 2 ? { action: 'fail' } : { action: 'continue' })
  })
  assert.throws(
    () => handle(refused(['first', 'second'])),
    (error) => error instanceof ProductionError && error.topic === 'second'
  )
  assert.deepEqual(skips, [0])
})
