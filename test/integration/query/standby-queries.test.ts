/**
 * Stale reads from standby copies (Kafka Streams' enableStaleStores): two word-count instances with
 * `numStandbyReplicas: 1` each hold the other's tasks as standbys. The metadata names the standby host of every key;
 * a query with `stale=true` to the instance that is not the key's owner is answered there, from its standby copy,
 * with `standby: true` and the copy's lag, and (once the lag is 0) the same count as the owner; without `stale` the
 * same query is forwarded to the owner. The in-process view with `enableStaleStores` reads the copy too.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { topics, wordCount } from '../../../examples/word-count/app.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { QueryClient } from '../../../src/query/client/index.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from '../runtime/support.ts'
import { freshTopics, startQueryGroup } from './query-group.ts'

const PARTITIONS = 4
const WORDS = Array.from({ length: 20 }, (_, i) => `s${i}`)
const TOKEN = 'standby-token'

test('a stale query is answered by the standby copy with its lag; metadata names the standby hosts', async () => {
  const { appId, topics: names } = await freshTopics('sbq', ['lines', 'counts'], PARTITIONS)
  Object.assign(topics, names)
  const group = await startQueryGroup({
    instances: 2,
    topology: wordCount,
    config: { applicationId: appId, metricsToken: TOKEN, numStandbyReplicas: 1 }
  })
  const { apps, hosts } = group
  try {
    // Every key has its active host and one standby host, the other instance.
    await waitFor(
      'every key has an active and a standby host',
      () => {
        if (!apps.every((app) => app.state === 'RUNNING')) return false
        return WORDS.every((word) => {
          const m = apps[0]!.queryMetadataForKey('counts', word, Serdes.string())
          return m.standbyHosts.length === 1 && m.standbyHosts[0] !== m.activeHost
        })
      },
      { timeoutMs: 60_000 }
    )

    const producer = createProducer({ brokers: testBrokers() })
    const lines = WORDS.flatMap((word, i) => Array.from({ length: (i % 3) + 1 }, () => word))
    await producer.send(
      lines.map((word, i) => ({ topic: topics.lines, key: Buffer.from(`l${i}`), value: Buffer.from(word) }))
    )
    await producer.close()
    const expected = new Map(WORDS.map((word, i) => [word, (i % 3) + 1]))
    await readTopic(topics.counts, PARTITIONS, (records) => {
      const latest = new Map(records.map((r) => [r.key!.toString(), Number(r.value!.readBigInt64BE())]))
      return WORDS.every((w) => latest.get(w) === expected.get(w))
    })

    const ask = async (host: string, word: string, stale: boolean) => {
      const response = await fetch(`http://${host}/stores/counts/keys/${word}${stale ? '?stale=true' : ''}`, {
        headers: { authorization: `Bearer ${TOKEN}` }
      })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    for (const word of WORDS) {
      const { activeHost, standbyHosts } = apps[0]!.queryMetadataForKey('counts', word, Serdes.string())
      const standbyHost = standbyHosts[0]!
      // The standby copy applies the changelog after each commit: wait until it has caught up with this word.
      const stale = await waitFor(`${word} from the standby copy`, async () => {
        const answer = await ask(standbyHost, word, true)
        return answer.status === 200 && answer.body.standby === true && answer.body.value === expected.get(word)
          ? answer
          : undefined
      })
      assert.equal(stale.body.host, standbyHost, 'answered where it was asked, not forwarded')
      assert.equal(stale.body.standby, true)
      assert.equal(typeof stale.body.lag, 'number')
      const fresh = await ask(standbyHost, word, false)
      assert.equal(fresh.status, 200)
      assert.equal(fresh.body.host, activeHost, 'without stale, the owner answers')
      assert.equal(fresh.body.standby, undefined)
      assert.equal(fresh.body.value, expected.get(word))
      // The in-process view reads the standby copy with enableStaleStores, and refuses without it.
      const app = apps[hosts.indexOf(standbyHost)]!
      const view = app.keyValueStore<string, bigint>('counts', { keySerde: Serdes.string(), enableStaleStores: true })
      assert.equal(view.get(word), BigInt(expected.get(word)!))
    }
    const client = new QueryClient({ url: `http://${hosts[0]}`, token: TOKEN })
    assert.equal(await client.get('counts', WORDS[5], { stale: true }), expected.get(WORDS[5]!))
  } finally {
    await group.close()
  }
})
