/**
 * Issue 19's acceptance: three instances of the word-count example, each publishing its applicationServer. After the
 * input is processed, asking any instance for any word (its own or forwarded) returns the count the output topic
 * shows last; the API (queryMetadataForKey, keyValueStore) agrees; ranges page over every instance; the endpoint
 * wants the token.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { topics, wordCount } from '../../../examples/word-count/app.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { QueryClient } from '../../../src/query/client/index.ts'
import { QueryError } from '../../../src/query/index.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from '../runtime/support.ts'
import { WordCounts } from '../runtime/word-counts.ts'
import { freshTopics, startQueryGroup } from './query-group.ts'

const PARTITIONS = 6
const WORDS = 300
const TOKEN = 'query-test-token'

async function get(host: string, path: string, token: string | null = TOKEN) {
  const response = await fetch(`http://${host}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

test('any of 3 word-count instances answers every word with the output topic latest count', async () => {
  const { appId, topics: names } = await freshTopics('wcq', ['lines', 'counts'], PARTITIONS)
  Object.assign(topics, names)
  const group = await startQueryGroup({
    instances: 3,
    topology: wordCount,
    config: { applicationId: appId, metricsToken: TOKEN }
  })
  const { apps, hosts } = group
  try {
    // A few hundred random words, each said a random number of times.
    const expected = new Map<string, bigint>()
    const lines: string[] = []
    for (let w = 0; w < WORDS; w++) {
      const word = `w${w}${Math.random().toString(36).slice(2, 7)}`
      const times = 1 + Math.floor(Math.random() * 4)
      expected.set(word, BigInt(times))
      for (let t = 0; t < times; t++) lines.push(word)
    }
    lines.sort(() => Math.random() - 0.5)
    const producer = createProducer({ brokers: testBrokers() })
    const perLine = 5
    const records = []
    for (let i = 0; i < lines.length; i += perLine) {
      records.push({
        topic: topics.lines,
        key: Buffer.from(`l${i}`),
        value: Buffer.from(lines.slice(i, i + perLine).join(' '))
      })
    }
    await producer.send(records)
    await producer.close()

    const output = new WordCounts()
    await readTopic(topics.counts, PARTITIONS, (read) => {
      output.latest.clear()
      output.add(read)
      return [...expected].every(([word, count]) => output.latest.get(word) === count)
    })
    await waitFor('offsets committed', () => apps.every((app) => app.progress().committed === app.progress().processed))

    // Every word through a random instance's endpoint: answered locally or forwarded, always the output's count.
    let forwarded = 0
    for (const [word, count] of expected) {
      const asked = Math.floor(Math.random() * 3)
      const { status, body } = await get(hosts[asked]!, `/stores/counts/keys/${encodeURIComponent(word)}`)
      assert.equal(status, 200, `${word} at ${hosts[asked]}: ${JSON.stringify(body)}`)
      assert.equal(body.value, Number(output.latest.get(word)), word)
      assert.equal(BigInt(body.value as number), count)
      const owner = apps[0]!.queryMetadataForKey('counts', word, Serdes.string())
      assert.equal(body.host, owner.activeHost, `the answer comes from the key's active host (${word})`)
      assert.equal(body.partition, owner.partition)
      if (owner.activeHost !== hosts[asked]) forwarded++
      // The owner's local view (record cache included) has the same count; the others say where it is not.
      const ownerApp = apps[hosts.indexOf(owner.activeHost)]!
      assert.equal(ownerApp.keyValueStore<string, bigint>('counts', { keySerde: Serdes.string() }).get(word), count)
      const other = apps.find((app) => app !== ownerApp)!
      assert.throws(
        () => other.keyValueStore('counts', { keySerde: Serdes.string() }).get(word),
        (error) => error instanceof QueryError && error.code === 'STREAMLANE_QUERY_NOT_LOCAL' && error.retriable
      )
    }
    assert.ok(forwarded > 0, 'some queries were forwarded to the owning instance')

    // The whole store, a page at a time, from one instance: every word once, sorted, with its count.
    const seen = new Map<string, number>()
    let after: string | null = null
    let pages = 0
    do {
      const query: string = `/stores/counts/keys?limit=64${after === null ? '' : `&after=${encodeURIComponent(after)}`}`
      const { status, body } = await get(hosts[1]!, query)
      assert.equal(status, 200, JSON.stringify(body))
      const entries = body.entries as { key: string; value: number }[]
      assert.ok(entries.length <= 64)
      for (const { key, value } of entries) {
        assert.ok(!seen.has(key), `${key} on one page only`)
        seen.set(key, value)
      }
      after = body.next as string | null
      pages++
    } while (after !== null)
    assert.equal(seen.size, WORDS)
    assert.equal(pages, Math.ceil(WORDS / 64))
    for (const [word, count] of expected) assert.equal(seen.get(word), Number(count))
    assert.equal(
      apps.reduce((sum, app) => sum + app.keyValueStore('counts').approximateNumEntries(), 0),
      WORDS,
      'the local views of the three instances hold every word once'
    )

    // The typed client (streamlane/query) against one instance, and the CLI against another.
    const client = new QueryClient({ url: `http://${hosts[2]}`, token: TOKEN })
    const [firstWord, firstCount] = [...expected][0]!
    assert.equal(BigInt((await client.get<number>('counts', firstWord)) ?? -1), firstCount)
    assert.equal(await client.get('counts', 'never-said'), null)
    let ranged = 0
    for await (const { key, value } of client.range<string, number>('counts', { pageSize: 100 })) {
      assert.equal(BigInt(value), expected.get(key))
      ranged++
    }
    assert.equal(ranged, WORDS)
    const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
    const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'query', module, '--store', 'counts', '--key', firstWord, '--url', `http://${hosts[0]}`],
      { env: { ...process.env, KAFKA_BROKERS: testBrokers().join(','), STREAMLANE_METRICS_TOKEN: TOKEN } }
    )
    assert.equal(stdout.trim(), firstCount.toString())

    // Raw bytes, for a client without the serdes: the key's bytes in, the value's 8-byte long out.
    const rawValue = await client.getBytes('counts', Buffer.from(firstWord))
    assert.equal(rawValue?.readBigInt64BE(), firstCount)
    assert.equal(await client.getBytes('counts', Buffer.from('never-said')), null)
    const raw = await get(
      hosts[0]!,
      `/stores/counts/keys/${encodeURIComponent(Buffer.from(firstWord).toString('base64'))}?keyFormat=base64&format=base64`
    )
    assert.equal(raw.status, 200, JSON.stringify(raw.body))
    assert.equal(raw.body.key, Buffer.from(firstWord).toString('base64'))
    assert.equal(Buffer.from(raw.body.value as string, 'base64').readBigInt64BE(), firstCount)
    const rawRange = await get(hosts[0]!, '/stores/counts/keys?format=base64')
    assert.equal(rawRange.status, 400, 'ranges answer JSON only')

    // Errors: token, unknown store, missing key.
    const path = `/stores/counts/keys/${[...expected.keys()][0]}`
    assert.equal((await get(hosts[0]!, path, null)).status, 401)
    const wrong = await get(hosts[0]!, path, 'not-the-token')
    assert.equal(wrong.status, 401)
    assert.equal((wrong.body.error as { code: string }).code, 'STREAMLANE_ENDPOINT_UNAUTHORIZED')
    const unknown = await get(hosts[2]!, '/stores/nope/keys/x')
    assert.equal(unknown.status, 404)
    assert.equal((unknown.body.error as { code: string }).code, 'STREAMLANE_QUERY_UNKNOWN_STORE')
    const missing = await get(hosts[2]!, '/stores/counts/keys/never-said')
    assert.equal(missing.status, 404)
    assert.equal((missing.body.error as { code: string }).code, 'STREAMLANE_QUERY_KEY_NOT_FOUND')
  } finally {
    await group.close()
  }
})
