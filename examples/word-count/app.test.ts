import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Serdes } from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { topics, wordCount, wordsOf } from './app.ts'

function driver(config: { cacheMaxBytes?: number; commitIntervalMs?: number } = {}) {
  const d = new TopologyTestDriver(wordCount(), { applicationId: 'word-count-test', ...config })
  return {
    d,
    lines: d.createInputTopic(topics.lines, Serdes.string(), Serdes.string()),
    counts: d.createOutputTopic(topics.counts, Serdes.string(), Serdes.long())
  }
}

test('splits lines into lower-case words', () => {
  assert.deepEqual(wordsOf('Hello, World! hello-world 42'), ['hello', 'world', 'hello', 'world', '42'])
  assert.deepEqual(wordsOf('  '), [])
})

test('counts every word across lines, and keeps the counts in the store and its changelog', async () => {
  const { d, lines, counts } = driver()
  try {
    await lines.pipeInput('l1', 'All streams lead to Kafka', 1_000)
    await lines.pipeInput('l2', 'Hello Kafka Streams', 2_000)
    await lines.pipeInput('l3', 'Join Kafka Summit', 3_000)
    const updates = counts.readKeyValuesToList()
    assert.deepEqual(
      updates.filter(({ key }) => key === 'kafka').map(({ value }) => value),
      [1n, 2n, 3n],
      'every line that mentions a word updates its count once (the driver commits after each record)'
    )
    assert.equal(counts.isEmpty(), true)
    const store = d.getKeyValueStore<string, bigint>('counts')
    assert.deepEqual(Object.fromEntries([...store.all()].map(({ key, value }) => [key, value])), {
      all: 1n,
      hello: 1n,
      join: 1n,
      kafka: 3n,
      lead: 1n,
      streams: 2n,
      summit: 1n,
      to: 1n
    })
    const changelog = d.createOutputTopic('word-count-test-counts-changelog', Serdes.string(), Serdes.long())
    assert.equal(changelog.readKeyValuesToMap().get('kafka'), 3n)
    assert.ok(d.producedTopicNames().includes('word-count-test-counts-repartition'))
  } finally {
    await d.close()
  }
})

test('the driver commits after every record, those read back from the repartition topic too, as Kafka Streams does', async () => {
  const { d, lines, counts } = driver()
  try {
    await lines.pipeInput('l1', 'to be or not to be', 0)
    assert.deepEqual(
      counts.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
      ['to=1', 'be=1', 'or=1', 'not=1', 'to=2', 'be=2'],
      'each word is a record of the repartition topic, followed by a commit that flushes the cache'
    )
  } finally {
    await d.close()
  }
})

test('without a cache every single update is forwarded', async () => {
  const { d, lines, counts } = driver({ cacheMaxBytes: 0 })
  try {
    await lines.pipeInput('l1', 'to be or not to be', 0)
    assert.deepEqual(
      counts.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
      ['to=1', 'be=1', 'or=1', 'not=1', 'to=2', 'be=2']
    )
  } finally {
    await d.close()
  }
})

test('with a commit interval, counts are written once per commit', async () => {
  const { d, lines, counts } = driver({ commitIntervalMs: 30_000 })
  try {
    await lines.pipeInput('l1', 'a b a', 0)
    await lines.pipeInput('l2', 'a c', 1)
    assert.equal(counts.isEmpty(), true, 'nothing before the commit')
    await d.advanceWallClockTime(30_000)
    assert.deepEqual(
      counts.readKeyValuesToList().map(({ key, value }) => `${key}=${value}`),
      ['b=1', 'a=3', 'c=1']
    )
  } finally {
    await d.close()
  }
})

test('lines without a value are skipped', async () => {
  const { d, lines, counts } = driver()
  try {
    await lines.pipeInput('l1', null as unknown as string, 0)
    await lines.pipeInput('l2', 'once', 1)
    assert.deepEqual(counts.readKeyValuesToList(), [{ key: 'once', value: 1n }])
  } finally {
    await d.close()
  }
})
