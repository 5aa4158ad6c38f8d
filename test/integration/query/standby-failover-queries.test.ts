/**
 * Issue 19's acceptance with standbys: three word-count instances as OS processes, exactly-once, `numStandbyReplicas:
 * 1`. After 1,000 random words are processed, asking any instance for any word returns the count the output topic
 * (read_committed) shows last. Then the instance that holds the most active tasks is SIGKILLed while two clients keep
 * asking the two survivors for random words, half of the queries with `stale=true`: every answer must be the word's
 * final count (the input is complete and committed, so the truth no longer moves), or, from a standby copy that
 * lags (a copy rebuilt after the kill), a count the output topic had for the word, or a retriable error; never a
 * wrong count, a missing word, another error or a hang. Standby answers and each kind of error are counted and logged.
 * Once the survivors have taken the dead instance's tasks over (from their standby copies), every word is answered
 * with its final count by both.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from '../runtime/support.ts'
import { freeHosts, freshTopics, WordCountProcesses } from './query-group.ts'

const PARTITIONS = 6
const WORDS = 1000
const TOKEN = 'failover-token'

interface HostPartitions {
  topic: string
  partitions: number[]
}
interface ClientMetadata {
  host: string
  activePartitions: HostPartitions[]
  standbyPartitions: HostPartitions[]
}

/** One query without retries: the status, and the answer's value, standby flag or error code. */
async function ask(host: string, word: string, stale: boolean) {
  const response = await fetch(`http://${host}/stores/counts/keys/${word}${stale ? '?stale=true' : ''}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: AbortSignal.timeout(10_000)
  })
  const body = (await response.json()) as {
    value?: number
    standby?: boolean
    error?: { code: string; retriable?: boolean }
  }
  return { status: response.status, body }
}

async function metadata(host: string): Promise<ClientMetadata[]> {
  const response = await fetch(`http://${host}/query/metadata`, { headers: { authorization: `Bearer ${TOKEN}` } })
  if (response.status !== 200) return []
  return ((await response.json()) as { instances: ClientMetadata[] }).instances
}

/** Whether `instances` is a stable placement of every store partition: once active, once standby, on two hosts. */
function placedWithStandbys(instances: readonly ClientMetadata[], hosts: number): boolean {
  if (instances.length !== hosts) return false
  const count = (pick: (m: ClientMetadata) => HostPartitions[]) => {
    const owners = new Map<string, string[]>()
    for (const m of instances) {
      for (const { topic, partitions } of pick(m)) {
        if (!topic.endsWith('-repartition')) continue
        for (const p of partitions) owners.set(`${topic}/${p}`, [...(owners.get(`${topic}/${p}`) ?? []), m.host])
      }
    }
    return owners
  }
  const active = count((m) => m.activePartitions)
  const standby = count((m) => m.standbyPartitions)
  if (active.size !== PARTITIONS || standby.size !== PARTITIONS) return false
  return [...active].every(
    ([tp, [host, ...more]]) => more.length === 0 && standby.get(tp)?.length === 1 && standby.get(tp)![0] !== host
  )
}

test('3 instances with standbys: every word right from any instance, and through a SIGKILL of the busiest', async () => {
  const { appId, topics } = await freshTopics('sbfail', ['lines', 'counts'], PARTITIONS)
  const { lines, counts } = topics
  const hosts = await freeHosts(3)
  const group = new WordCountProcesses({
    appId,
    lines,
    counts,
    token: TOKEN,
    env: { STREAMLANE_NUM_STANDBY_REPLICAS: '1' }
  })
  const instances = hosts.map((host, i) => group.start(`i${i + 1}`, host))
  let querying = true
  let queriers: Promise<void>[] = []
  try {
    await waitFor(
      'every instance sees 3 hosts, each partition active on one and standby on another',
      async () => {
        for (const host of hosts) if (!placedWithStandbys(await metadata(host), 3)) return false
        return true
      },
      { timeoutMs: 120_000, intervalMs: 500 }
    )

    // 1,000 random words, each said 1 to 3 times, 5 words a line.
    const expected = new Map<string, number>()
    const said: string[] = []
    while (expected.size < WORDS) {
      const word = `w${Math.random().toString(36).slice(2, 9)}`
      if (expected.has(word)) continue
      const times = 1 + Math.floor(Math.random() * 3)
      expected.set(word, times)
      for (let t = 0; t < times; t++) said.push(word)
    }
    said.sort(() => Math.random() - 0.5)
    const producer = createProducer({ brokers: testBrokers() })
    const records = []
    for (let i = 0; i < said.length; i += 5) {
      records.push({ topic: lines, key: Buffer.from(`l${i}`), value: Buffer.from(said.slice(i, i + 5).join(' ')) })
    }
    await producer.send(records)
    await producer.close()
    const latest = new Map<string, number>()
    /** Every count the output topic had for each word: what a lagging standby copy may show. */
    const history = new Map<string, Set<number>>()
    await readTopic(
      counts,
      PARTITIONS,
      (read) => {
        for (const r of read.splice(0)) {
          const [word, count] = [r.key!.toString(), Number(r.value!.readBigInt64BE())]
          latest.set(word, count)
          history.set(word, (history.get(word) ?? new Set()).add(count))
        }
        return [...expected].every(([word, count]) => latest.get(word) === count)
      },
      120_000
    )

    // Every word from a random instance: the output topic's latest count, answered by its owner or forwarded there.
    for (const [word, count] of expected) {
      const host = hosts[Math.floor(Math.random() * 3)]!
      const { status, body } = await ask(host, word, false)
      assert.equal(status, 200, `${word} at ${host}: ${JSON.stringify(body)}`)
      assert.equal(body.value, latest.get(word), `${word} at ${host}`)
      assert.equal(body.value, count)
    }

    // The standby copies catch up with the changelog after each commit: wait until each has every count it holds.
    const words = [...expected.keys()]
    await waitFor(
      'the standby copies have every count',
      async () => {
        for (const host of hosts) {
          for (const word of words) {
            const { status, body } = await ask(host, word, true)
            if (status !== 200 || (body.standby && body.value !== expected.get(word))) return false
          }
        }
        return true
      },
      { timeoutMs: 60_000, intervalMs: 500 }
    )

    // Kill the instance with the most active partitions; the survivors hold the standby copies of its tasks.
    const placement = await metadata(hosts[0]!)
    const activeCount = (host: string) =>
      placement.find((m) => m.host === host)!.activePartitions.reduce((sum, p) => sum + p.partitions.length, 0)
    const victim = hosts.reduce((a, b) => (activeCount(b) > activeCount(a) ? b : a))
    const survivors = hosts.filter((h) => h !== victim)
    const tally = {
      answers: 0,
      fromStandby: 0,
      /** Answers of a lagging standby copy: an earlier count of the output topic. */
      earlierFromStandby: 0,
      retriable: new Map<string, number>(),
      wrong: [] as string[]
    }
    const query = async (stale: boolean) => {
      while (querying) {
        const host = survivors[Math.floor(Math.random() * survivors.length)]!
        const word = words[Math.floor(Math.random() * words.length)]!
        try {
          const { status, body } = await ask(host, word, stale)
          if (status === 200 && body.value === expected.get(word)) {
            tally.answers++
            if (body.standby) tally.fromStandby++
          } else if (status === 200 && body.standby && history.get(word)!.has(body.value!)) {
            tally.answers++
            tally.earlierFromStandby++
          } else if (body.error?.retriable) {
            const kind = `${status} ${body.error.code}`
            tally.retriable.set(kind, (tally.retriable.get(kind) ?? 0) + 1)
            await delay(50) // a client's pause before it retries
          } else {
            tally.wrong.push(`${word} at ${host} (stale ${stale}): ${status} ${JSON.stringify(body)}`)
          }
        } catch (error) {
          tally.wrong.push(`${word} at ${host}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
    }
    queriers = [query(true), query(false)]
    await waitFor('answers before the kill', () => tally.answers >= 100)
    const victimInstance = instances[hosts.indexOf(victim)]!
    victimInstance.signal('SIGKILL')
    await victimInstance.exited
    await waitFor(
      'the survivors see 2 hosts, each partition active on one and standby on the other',
      async () => {
        for (const host of survivors) if (!placedWithStandbys(await metadata(host), 2)) return false
        return true
      },
      { timeoutMs: 90_000, intervalMs: 500 }
    )
    const afterKill = tally.answers
    await waitFor('answers once stable again', () => tally.answers >= afterKill + 200, { timeoutMs: 60_000 })
    querying = false
    await Promise.all(queriers)
    console.log(
      `standby failover queries: ${JSON.stringify({ ...tally, retriable: Object.fromEntries(tally.retriable) })}`
    )
    assert.deepEqual(tally.wrong, [], 'wrong answers, missing words or errors that are not retriable')

    // Stable again: both survivors answer every word with its final count, without stale.
    for (const host of survivors) {
      for (const word of words) {
        const { status, body } = await ask(host, word, false)
        assert.equal(status, 200, `${word} at ${host}: ${JSON.stringify(body)}`)
        assert.equal(body.value, expected.get(word), `${word} at ${host}`)
      }
    }
  } catch (error) {
    for (const i of instances) console.log(`${i.name} log (end):\n${i.log.slice(-4000)}`)
    throw error
  } finally {
    querying = false
    await Promise.allSettled(queriers)
    await group.close()
  }
})
