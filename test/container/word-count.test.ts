/**
 * Issue 10's container end-to-end test: the images from deploy/Dockerfile, built and run with podman on this machine,
 * the way a StatefulSet runs them. Three containers of the word-count example (its module put on the runtime image
 * the documented two-line way), each with a named volume as its state dir and its name as its group instance id,
 * exactly-once, input flowing. One is stopped with a grace period (SIGTERM: it commits and exits 0), one is SIGKILLed;
 * the killed one comes back with its volume (it restores only the delta), the stopped one with a fresh volume (it
 * restores everything, and `/ready` says 503 until it has). The final counts equal an independent count of the input.
 * The scaler image then reads the group's lag from the broker.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { repoRoot } from '../../scripts/kafka/broker.ts'
import { createAdmin } from '../../src/kafka/admin.ts'
import { createProducer } from '../../src/kafka/producer.ts'
import { committedInput, createTopics, topicEnd } from '../integration/runtime/support.ts'
import { readWordCounts } from '../integration/runtime/word-counts.ts'
import { testBrokers, uniqueName } from '../support/kafka.ts'
import { waitFor } from '../support/wait.ts'
import { ContainerInstance, type LogEntry } from './container-instance.ts'
import { appImage, nodeBaseImage, streamlaneImages } from './images.ts'
import { removeContainers, removeVolumes } from './podman.ts'
import { type ReadySample, sampleReadiness } from './readiness.ts'

const PARTITIONS = 4
const VOCABULARY = 50_000
const WORDS_PER_LINE = 10
const FIRST_LINES = 100_000
const GRACE_SECONDS = 30
const APP_IMAGE = 'localhost/streamlane-word-count:test'

let images: { runtime: string; scaler: string }

before(async () => {
  const started = Date.now()
  images = await streamlaneImages(await nodeBaseImage())
  await appImage(images.runtime, APP_IMAGE, { 'app.ts': wordCountModule() })
  console.log(`images ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
})

/** The example as a user's module outside this repository has it: importing the package, not the repo's sources. */
function wordCountModule(): string {
  const source = readFileSync(`${repoRoot}/examples/word-count/app.ts`, 'utf8').replace(
    "from '../../src/index.ts'",
    "from 'streamlane'"
  )
  assert.match(source, /from 'streamlane'/, 'the word-count example imports Streamlane')
  return source
}

/** Line `i` of the input: words `w<n>` of a fixed vocabulary, so the truth is counted without the app's tokenizer. */
function lineWords(i: number): string[] {
  return Array.from({ length: WORDS_PER_LINE }, (_, k) => `w${(i * 7_919 + k * 104_729) % VOCABULARY}`)
}

const restoredRecords = (entries: LogEntry[]) => entries.reduce((sum, e) => sum + (e.records as number), 0)
const restoreMs = (entries: LogEntry[]) => Math.max(0, ...entries.map((e) => e.ms as number))
type PlanEntry = { checkpoint: string | null; end: string; from: string | null }
const planEntries = (instance: ContainerInstance) =>
  instance.entries('restore plan').flatMap((e) => e.changelogs as PlanEntry[])

test('word count in containers: graceful stop, SIGKILL, restarts with and without the volume, exact counts', async () => {
  const appId = uniqueName('wc-e2e')
  const lines = uniqueName('wc-e2e-lines')
  const counts = uniqueName('wc-e2e-counts')
  const changelog = `${appId}-counts-changelog`
  const names = [0, 1, 2].map((i) => `streamlane-e2e-wc-${i}`)
  const scalerName = 'streamlane-e2e-scaler'
  const volumes = names.map((name) => `${name}-${appId}`)
  const freshVolume = `${names[0]}-fresh-${appId}`
  const admin = createAdmin({ brokers: testBrokers() })
  const producer = createProducer({ brokers: testBrokers() })
  const truth = new Map<string, bigint>()
  let produced = 0
  const produce = async (count: number) => {
    const batch = []
    for (let i = produced; i < produced + count; i++) {
      const words = lineWords(i)
      for (const word of words) truth.set(word, (truth.get(word) ?? 0n) + 1n)
      batch.push({ topic: lines, key: Buffer.from(String(i)), value: Buffer.from(words.join(' ')) })
    }
    produced += count
    await producer.send(batch)
  }
  const start = (i: number, volume: string) =>
    new ContainerInstance(names[i]!, {
      image: APP_IMAGE,
      volume,
      env: {
        KAFKA_BROKERS: testBrokers().join(','),
        STREAMLANE_APPLICATION_ID: appId,
        LINES_TOPIC: lines,
        WORD_COUNTS_TOPIC: counts,
        // Like a StatefulSet's pod name from the downward API: a restarted container is the same static member.
        STREAMLANE_GROUP_INSTANCE_ID: names[i]!,
        STREAMLANE_PROCESSING_GUARANTEE: 'exactly_once_v2',
        // Every update reaches the changelog: restores are long enough to watch and "only the delta" is sharp.
        STREAMLANE_CACHE_MAX_BYTES: '0',
        STREAMLANE_SHUTDOWN_TIMEOUT_MS: String((GRACE_SECONDS - 10) * 1000),
        // The host network is shared: each container picks a free port and logs it; loopback only.
        STREAMLANE_METRICS_PORT: '0',
        STREAMLANE_METRICS_HOST: '127.0.0.1',
        STREAMLANE_LOG_LEVEL: 'info'
      }
    })
  const ready = async (instance: ContainerInstance) => {
    const port = instance.metricsPort()
    if (!port) return false
    return (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200
  }
  const status = async (instance: ContainerInstance) =>
    (await (await fetch(`http://127.0.0.1:${instance.metricsPort()}/status`)).json()) as {
      active: { task: string }[]
      replicas: { task: string; kind: string }[]
    }
  const allConsumed = async () => (await committedInput(admin, appId, lines)) === (await topicEnd(admin, lines))
  const running: ContainerInstance[] = []

  await removeContainers([...names, scalerName])
  try {
    await createTopics([
      { name: lines, partitions: PARTITIONS },
      { name: counts, partitions: PARTITIONS }
    ])
    await produce(FIRST_LINES)
    running.push(start(0, volumes[0]!), start(1, volumes[1]!), start(2, volumes[2]!))
    for (const instance of running) await instance.waitFor('ready', () => ready(instance))
    await waitFor('the first input consumed', allConsumed, { timeoutMs: 180_000, intervalMs: 500 })
    console.log(
      `${FIRST_LINES} lines counted ${((Date.now() - running[0]!.startedAt) / 1000).toFixed(1)} s after start`
    )
    // High availability moves a count task to a container only once a warm-up copy there caught up: the containers
    // started one after another, so wait until each runs a count task and no warm-up is in flight. Then the killed
    // container surely had state of its own to come back to.
    await waitFor(
      'every container runs a count task, no warm-up in flight',
      async () => {
        const statuses = await Promise.all(running.map(status))
        return statuses.every((s) => s.active.some((t) => t.task.startsWith('1_')) && s.replicas.length === 0)
      },
      { timeoutMs: 120_000, intervalMs: 500 }
    )

    // Input keeps flowing through the stop, the kill and the restarts.
    let flowing = true
    const flow = (async () => {
      while (flowing) {
        await produce(500)
        await delay(100)
      }
    })()
    try {
      const [stopped, killed] = running
      const stopExit = await stopped!.stop(GRACE_SECONDS)
      assert.equal(stopExit, 0, `SIGTERM: exit code 0 after a clean close\n${stopped!.log.slice(-3000)}`)
      const closed = stopped!.entries('closed').at(-1)
      assert.ok(closed, 'the stopped container logged its close')
      assert.equal(closed.committed, closed.processed, 'everything it processed was committed before it exited')

      assert.equal(await killed!.kill(), 137, 'SIGKILL: exit code 128 + 9')
      const changelogBefore = await topicEnd(admin, changelog)

      // Like a StatefulSet: the same names come back; the killed pod with its volume, the stopped one with a new one.
      await removeContainers([killed!.name, stopped!.name])
      const withVolume = start(1, volumes[1]!)
      const fresh = start(0, freshVolume)
      running.splice(0, 2, fresh, withVolume)
      const [samples, withVolumeReadyAt] = await Promise.all([
        sampleReadiness(fresh),
        withVolume.waitFor('ready', () => ready(withVolume), 120_000, 50).then(() => Date.now())
      ])

      // With its volume: only what its checkpoints do not cover.
      const deltaEntries = withVolume.entries('task restored')
      const delta = restoredRecords(deltaEntries)
      const withCheckpoint = planEntries(withVolume).filter((p) => p.checkpoint !== null).length
      assert.ok(
        withCheckpoint > 0,
        `the container restarted with its volume found its checkpoints; what it was given:\n${assignmentLog(withVolume)}`
      )
      assert.ok(
        delta < changelogBefore * 0.1,
        `restart with its volume restored ${delta} of ${changelogBefore} changelog records: not only the delta`
      )

      // With a fresh volume: every store rebuilt from its changelog, and not ready until that was done.
      const fullEntries = fresh.entries('task restored')
      const full = restoredRecords(fullEntries)
      const planned = planEntries(fresh).reduce((sum, p) => sum + Number(p.end) - Number(p.from ?? p.end), 0)
      assert.ok(full > 0, 'the container with a fresh volume restored its stores from the changelog')
      assert.ok(
        planEntries(fresh).every((p) => p.checkpoint === null),
        'a fresh volume has no checkpoint'
      )
      assertReadyOnlyAfterRestore(fresh, samples)
      const firstReady = samples.find((s) => s.status === 200)!
      console.log(
        [
          `restart with its volume (after SIGKILL): restored ${delta} changelog records in ${restoreMs(deltaEntries)} ms, ` +
            `ready ${((withVolumeReadyAt - withVolume.startedAt) / 1000).toFixed(1)} s after podman run`,
          `restart with a fresh volume: restored ${full} records (offsets ${planned}) in ${restoreMs(fullEntries)} ms ` +
            `(${Math.round(full / (Math.max(restoreMs(fullEntries), 1) / 1000))} records/s), ` +
            `ready ${((firstReady.receivedAt - fresh.startedAt) / 1000).toFixed(1)} s after podman run`,
          `changelog: ${changelogBefore} records over ${PARTITIONS} partitions when the containers came back`
        ].join('\n')
      )
    } finally {
      flowing = false
      await flow
    }

    await waitFor('all input consumed', allConsumed, { timeoutMs: 180_000, intervalMs: 500 })
    const output = await readWordCounts(counts, PARTITIONS, truth, 120_000)
    assert.deepEqual(output.notIncreasing, [], 'exactly-once: no count repeats or goes back')
    assert.deepEqual(output.latest, truth, 'final counts equal the input, none lost, none counted twice')
    console.log(`final counts: ${truth.size} words over ${produced} lines, all exact`)

    await checkScalerImage(scalerName, images.scaler, appId, lines)

    for (const instance of running) {
      assert.equal(await instance.stop(GRACE_SECONDS), 0, `${instance.name} exits 0 on SIGTERM`)
    }
  } finally {
    await removeContainers([...names, scalerName])
    await Promise.all(running.map((i) => i.exited))
    await removeVolumes([...volumes, freshVolume])
    await producer.close()
    await admin.close()
  }
})

/** The instance's log lines about what it was assigned, restored and warmed up: to explain a failed assertion. */
function assignmentLog(instance: ContainerInstance): string {
  const relevant = /"msg":"(assignment running|restore plan|standby and warm-up tasks assigned|probing rebalance)"/
  return instance.log
    .split('\n')
    .filter((line) => relevant.test(line))
    .join('\n')
}

/**
 * `/ready` turned 200 only once every store the container restored before was restored, and answered 503 while
 * the restoration was under way (a sample sent after it began and answered before it ended).
 */
function assertReadyOnlyAfterRestore(instance: ContainerInstance, samples: ReadySample[]): void {
  const firstReady = samples.find((s) => s.status === 200)
  assert.ok(firstReady, 'the restarted container became ready')
  const plans = instance.entries('restore plan')
  const restored = instance.entries('task restored')
  const plannedBefore = plans.filter((p) => p.time < firstReady.sentAt)
  assert.ok(plannedBefore.length > 0, 'the container restored before it was ready')
  for (const plan of plannedBefore) {
    const done = restored.find((r) => r.task === plan.task && r.time >= plan.time)
    assert.ok(done && done.time <= firstReady.receivedAt, `/ready said 200 before task ${plan.task} was restored`)
  }
  const restoreStart = Math.min(...plannedBefore.map((p) => p.time))
  const restoreEnd = Math.max(...restored.filter((r) => r.time <= firstReady.receivedAt).map((r) => r.time))
  assert.ok(
    samples.some((s) => s.status === 503 && s.sentAt >= restoreStart && s.receivedAt <= restoreEnd),
    `/ready answered 503 during the restoration (${restoreStart}..${restoreEnd}): ${JSON.stringify(samples.slice(-20))}`
  )
}

/** The scaler image serves KEDA's metrics-api from the broker: the group's three members, nothing left to consume. */
async function checkScalerImage(name: string, image: string, group: string, topic: string): Promise<void> {
  const scaler = new ContainerInstance(name, {
    image,
    env: { KAFKA_BROKERS: testBrokers().join(','), STREAMLANE_SCALER_HOST: '127.0.0.1' },
    args: ['--grpc-port', '0', '--http-port', '0']
  })
  const listening = await scaler.waitFor('listening', () => scaler.entries('scaler listening')[0])
  const response = await fetch(`http://127.0.0.1:${listening.httpPort}/metrics/${group}?topics=${topic}&maxReplicas=6`)
  const body = (await response.json()) as {
    currentReplicas: number
    partitions: { topic: string; lag: number }[]
  }
  assert.equal(response.status, 200, JSON.stringify(body))
  const input = body.partitions.filter((p) => p.topic === topic)
  assert.equal(input.length, PARTITIONS, JSON.stringify(body))
  // The input only: the repartition topic's end includes the last transaction's commit marker, one offset past it.
  assert.deepEqual(
    input.map((p) => p.lag),
    input.map(() => 0),
    'the scaler reads that the group consumed all its input'
  )
  assert.equal(body.currentReplicas, 3, 'and that it has three members')
  assert.equal(await scaler.stop(10), 0, 'the scaler exits 0 on SIGTERM')
}
