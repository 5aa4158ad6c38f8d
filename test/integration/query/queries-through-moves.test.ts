/**
 * Issue 19's "correct through moves": word-count instances as OS processes (exactly-once, record cache off) scale
 * from 2 to 3 and then one is SIGKILLed, while lines keep arriving and a client keeps asking random instances for
 * random words. The truth only grows: how many times the test has sent each word. Every answer must be a count in
 * [1, sent so far] (a word not processed yet may be missing), or a retriable error with its status and code; never a
 * wrong count, another error or a hang (the client's timeout). The graceful scale-out never shows a count going down
 * (the old owner commits before handing over); after the kill a count read from the dead instance's uncommitted work
 * may be rolled back (docs/interactive-queries.md), which is counted and reported. Once the group is stable again
 * every instance answers every word with the final count.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { createProducer } from '../../../src/kafka/producer.ts'
import { QueryAnswerError, QueryClient } from '../../../src/query/client/index.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { readTopic } from '../runtime/support.ts'
import { freeHosts, freshTopics, WordCountProcesses } from './query-group.ts'

const PARTITIONS = 6
const WORDS = Array.from({ length: 40 }, (_, i) => `w${i}`)
const TOKEN = 'moves-token'

type Phase = 'two' | 'scale-out' | 'kill' | 'stable'

interface Tally {
  answers: number
  missing: number
  retries: Map<string, number>
  retriableErrors: Map<string, number>
  wrong: string[]
  otherErrors: string[]
  decreases: Record<Phase, number>
}

const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)

test('queries during a scale-out and a SIGKILL: correct counts or retriable errors, never a wrong answer', async () => {
  const { appId, topics } = await freshTopics('moves', ['lines', 'counts'], PARTITIONS)
  const { lines, counts } = topics
  const [h1, h2, h3] = await freeHosts(3)
  const group = new WordCountProcesses({
    appId,
    lines,
    counts,
    token: TOKEN,
    // Every count is written, so the output topic holds each count a query could show.
    env: { STREAMLANE_CACHE_MAX_BYTES: '0' }
  })
  const start = (name: string, host: string) => group.start(name, host)
  const instances = [start('i1', h1!), start('i2', h2!)]
  const live = new Set([h1!, h2!])
  const inFlight = new Map<string, number>()
  const sent = new Map<string, number>(WORDS.map((w) => [w, 0]))
  const lastSeen = new Map<string, number>()
  let phase: Phase = 'two'
  let producing = true
  let querying = true
  const tally: Tally = {
    answers: 0,
    missing: 0,
    retries: new Map(),
    retriableErrors: new Map(),
    wrong: [],
    otherErrors: [],
    decreases: { two: 0, 'scale-out': 0, kill: 0, stable: 0 }
  }
  const clients = new Map(
    [h1!, h2!, h3!].map((host) => [
      host,
      new QueryClient({
        url: `http://${host}`,
        token: TOKEN,
        onRetry: (error) => bump(tally.retries, `${error.status} ${error.code}`)
      })
    ])
  )

  /** Lines of 4 random words, a few every 20 ms; a word is counted as sent before its line leaves. */
  async function produce(): Promise<void> {
    const producer = createProducer({ brokers: testBrokers() })
    try {
      for (let n = 0; producing; n++) {
        const words = Array.from({ length: 4 }, () => WORDS[Math.floor(Math.random() * WORDS.length)]!)
        for (const word of words) sent.set(word, sent.get(word)! + 1)
        await producer.send([{ topic: lines, key: Buffer.from(`l${n}`), value: Buffer.from(words.join(' ')) }])
        await delay(20) // pacing: input keeps arriving through the moves
      }
    } finally {
      await producer.close()
    }
  }

  async function ask(host: string, word: string): Promise<void> {
    const upper = sent.get(word)!
    inFlight.set(host, (inFlight.get(host) ?? 0) + 1)
    try {
      const value = await clients.get(host)!.get<number>('counts', word)
      tally.answers++
      if (value === null) {
        tally.missing++
        return
      }
      // The truth only grows: read again after the answer, a count above it was never sent.
      if (!(value >= 1 && value <= sent.get(word)!)) {
        tally.wrong.push(`${word}=${value} from ${host} (sent ${upper}..${sent.get(word)})`)
      }
      if (value < (lastSeen.get(word) ?? 0)) tally.decreases[phase]++
      lastSeen.set(word, value)
    } catch (error) {
      if (error instanceof QueryAnswerError && error.retriable)
        bump(tally.retriableErrors, `${error.status} ${error.code}`)
      else
        tally.otherErrors.push(`${host} ${word}: ${error instanceof Error ? `${error.name} ${error.message}` : error}`)
    } finally {
      inFlight.set(host, inFlight.get(host)! - 1)
    }
  }

  async function query(): Promise<void> {
    while (querying) {
      const targets = [...live]
      await ask(targets[Math.floor(Math.random() * targets.length)]!, WORDS[Math.floor(Math.random() * WORDS.length)]!)
    }
  }

  const hostCount = async (host: string) =>
    (
      await clients
        .get(host)!
        .metadata()
        .catch(() => [])
    ).length
  const answeredMore = (n: number) => {
    const target = tally.answers + n
    return () => tally.answers >= target
  }

  let producer: Promise<void> | undefined
  let queriers: Promise<void>[] = []
  try {
    await waitFor('2 instances running', () => instances.every((i) => i.runningAssignment()), { timeoutMs: 60_000 })
    await waitFor('both see a 2-host map', async () => (await hostCount(h1!)) === 2 && (await hostCount(h2!)) === 2, {
      timeoutMs: 30_000
    })
    producer = produce()
    queriers = [query(), query()]
    await waitFor('answers with 2 instances', answeredMore(200), { timeoutMs: 60_000 })

    phase = 'scale-out'
    const third = start('i3', h3!)
    instances.push(third)
    await waitFor('the third instance runs tasks', () => third.runningAssignment(), { timeoutMs: 60_000 })
    live.add(h3!)
    await waitFor('all see a 3-host map', async () => (await hostCount(h1!)) === 3 && (await hostCount(h3!)) === 3, {
      timeoutMs: 30_000
    })
    await waitFor('answers with 3 instances', answeredMore(200), { timeoutMs: 60_000 })

    // The client stops asking i1 (a Service would stop routing to a dead pod); the others still forward to it.
    phase = 'kill'
    live.delete(h1!)
    await waitFor('no query in flight at i1', () => (inFlight.get(h1!) ?? 0) === 0)
    instances[0]!.signal('SIGKILL')
    await instances[0]!.exited
    await waitFor(
      'the 2 left see a 2-host map',
      async () => (await hostCount(h2!)) === 2 && (await hostCount(h3!)) === 2,
      {
        timeoutMs: 60_000
      }
    )
    phase = 'stable'
    await waitFor('answers after the kill', answeredMore(200), { timeoutMs: 60_000 })

    producing = false
    await producer
    const final = new Map(sent)
    await readTopic(
      counts,
      PARTITIONS,
      (records) => {
        const max = new Map<string, number>()
        for (const r of records) max.set(r.key!.toString(), Number(r.value!.readBigInt64BE()))
        return WORDS.every((w) => max.get(w) === final.get(w))
      },
      120_000
    )
    querying = false
    await Promise.all(queriers)

    // The group is stable: every instance answers every word with its final count.
    for (const host of [h2!, h3!]) {
      for (const word of WORDS)
        assert.equal(await clients.get(host)!.get<number>('counts', word), final.get(word), `${word} at ${host}`)
    }
    const report = {
      answers: tally.answers,
      missing: tally.missing,
      retriedAnswers: Object.fromEntries(tally.retries),
      retriableErrors: Object.fromEntries(tally.retriableErrors),
      decreases: tally.decreases,
      inputWords: [...final.values()].reduce((a, b) => a + b, 0)
    }
    console.log(`queries through moves: ${JSON.stringify(report)}`)
    assert.deepEqual(tally.wrong, [], 'wrong answers')
    assert.deepEqual(tally.otherErrors, [], 'errors that are not retriable (or timeouts)')
    assert.equal(tally.decreases.two + tally.decreases['scale-out'], 0, 'a count went down without a crash')
  } catch (error) {
    for (const i of instances) console.log(`${i.name} log (end):\n${i.log.slice(-4000)}`)
    throw error
  } finally {
    producing = false
    querying = false
    await Promise.allSettled([producer, ...queriers])
    await group.close()
  }
})
