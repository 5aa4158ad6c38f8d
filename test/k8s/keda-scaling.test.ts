/**
 * Issue 22: the chart on a real control plane with real KEDA. kube-apiserver, kube-controller-manager (StatefulSet,
 * HPA, volume binding, garbage collection) and kube-scheduler built from k8s.io/kubernetes, KEDA's operator and
 * metrics adapter from its module; pods run by the node agent (docs/kubernetes-local.md says what it does not do).
 * The chart is installed with helm: a StatefulSet with a claim per pod, the scaler's Deployment and a ScaledObject
 * whose external trigger calls the scaler at 127.0.0.1. Checked: a pod deleted comes back with its claim and finds its
 * checkpoints; a burst of slow lines makes KEDA scale the StatefulSet out through the real HPA and back in once the
 * lag is gone; exactly-once counts equal the input (nothing lost, nothing counted twice).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import type { KubeObject } from '../../scripts/k8s/kube-client.ts'
import { freePort, repoRoot } from '../../scripts/kafka/broker.ts'
import { createAdmin } from '../../src/kafka/admin.ts'
import { createProducer } from '../../src/kafka/producer.ts'
import { committedInput, createTopics, topicEnd } from '../integration/runtime/support.ts'
import { readWordCounts } from '../integration/runtime/word-counts.ts'
import { testBrokers, uniqueName } from '../support/kafka.ts'
import { waitFor } from '../support/wait.ts'
import { startLocalCluster } from './local-cluster.ts'
import { ReplicaTimeline } from './replica-timeline.ts'

const PARTITIONS = 12
const NAMESPACE = 'streamlane'
const RELEASE = 'wc'
const WARM_UP_LINES = 24
const BURST_LINES = 480
const PER_LINE_MS = 500
const IN_FLIGHT_PER_POD = 2
const MAX_REPLICAS = 4

/** Line `i`: five words of a small vocabulary, so each word's true count is known without the app's tokenizer. */
const lineWords = (i: number) => Array.from({ length: 5 }, (_, k) => `w${(i * 31 + k * 7) % 97}`)

type LogEntry = Record<string, unknown> & { msg: string; time: number }

function logEntries(file: string, msg: string, since: number): LogEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as LogEntry)
    .filter((entry) => entry.time >= since)
}

test('KEDA scales the chart’s StatefulSet out and back in through the HPA; a deleted pod returns with its volume; exact counts', async () => {
  const appId = uniqueName('k8s-wc')
  const lines = uniqueName('k8s-wc-lines')
  const counts = uniqueName('k8s-wc-counts')
  const grpcPort = await freePort()
  const httpPort = await freePort()
  const admin = createAdmin({ brokers: testBrokers() })
  const producer = createProducer({ brokers: testBrokers() })
  const truth = new Map<string, bigint>()
  let produced = 0
  const produce = async (count: number) => {
    const batch = []
    for (let i = produced; i < produced + count; i++) {
      for (const word of lineWords(i)) truth.set(word, (truth.get(word) ?? 0n) + 1n)
      batch.push({ topic: lines, key: Buffer.from(String(i)), value: Buffer.from(lineWords(i).join(' ')) })
    }
    produced += count
    await producer.send(batch)
  }
  const lag = async () => (await topicEnd(admin, lines)) - (await committedInput(admin, appId, lines))

  const local = await startLocalCluster()
  const { client } = local.cluster
  const statefulSet = () => client.get(`/apis/apps/v1/namespaces/${NAMESPACE}/statefulsets/${RELEASE}`)
  const pod = (name: string) => client.get(`/api/v1/namespaces/${NAMESPACE}/pods/${name}`)
  const isReady = (p: KubeObject) =>
    (p.status?.conditions ?? []).some(
      (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'
    )
  let timeline: ReplicaTimeline | undefined
  try {
    await createTopics([
      { name: lines, partitions: PARTITIONS },
      { name: counts, partitions: PARTITIONS }
    ])
    await local.installChart(RELEASE, NAMESPACE, {
      fullnameOverride: RELEASE,
      image: { repository: 'streamlane-word-count' },
      args: [`${repoRoot}/test/k8s/fixtures/slow-word-count.ts`],
      kafka: { bootstrapServers: testBrokers().join(',') },
      app: {
        applicationId: appId,
        processingGuarantee: 'exactly_once_v2',
        shutdownTimeoutMs: 10_000,
        sessionTimeoutMs: 15_000
      },
      env: [
        { name: 'LINES_TOPIC', value: lines },
        { name: 'WORD_COUNTS_TOPIC', value: counts },
        { name: 'PER_LINE_MS', value: String(PER_LINE_MS) },
        { name: 'STREAMLANE_MAX_RECORDS_IN_FLIGHT', value: String(IN_FLIGHT_PER_POD) },
        // Loopback only: pods share the host's network here, and nothing resolves <service>.<namespace>.svc.
        { name: 'STREAMLANE_METRICS_HOST', value: '127.0.0.1' },
        { name: 'STREAMLANE_SCALER_URL', value: `http://127.0.0.1:${httpPort}` }
      ],
      persistence: { size: '1Gi' },
      autoscaling: {
        minReplicas: 1,
        maxReplicas: MAX_REPLICAS,
        pollingInterval: 5,
        scalerAddress: `127.0.0.1:${grpcPort}`,
        lagDrainTargetSeconds: 30,
        metadata: { scaleInStabilizationSeconds: '15' }
      },
      scaler: { grpcPort, httpPort, env: [{ name: 'STREAMLANE_SCALER_HOST', value: '127.0.0.1' }] }
    })
    await waitFor(
      'the first pod ready (KEDA set the StatefulSet to minReplicas)',
      async () => isReady(await pod(`${RELEASE}-0`)),
      {
        timeoutMs: 180_000,
        intervalMs: 500
      }
    )

    // A pod deleted: the StatefulSet controller recreates it with the same claim, and it finds its checkpoints there.
    await produce(WARM_UP_LINES)
    await waitFor('the warm-up lines counted', async () => (await lag()) === 0, { timeoutMs: 120_000, intervalMs: 500 })
    const before = await pod(`${RELEASE}-0`)
    const deletedAt = Date.now()
    await client.delete(`/api/v1/namespaces/${NAMESPACE}/pods/${RELEASE}-0`)
    const after = await waitFor(
      `${RELEASE}-0 recreated and ready`,
      async () => {
        const current = await pod(`${RELEASE}-0`)
        return current.metadata.uid !== before.metadata.uid && isReady(current) ? current : undefined
      },
      { timeoutMs: 180_000, intervalMs: 500 }
    )
    const claimOf = (p: KubeObject) =>
      p.spec.volumes.find((v: { name: string }) => v.name === 'state').persistentVolumeClaim.claimName
    assert.equal(claimOf(after), claimOf(before), 'the recreated pod mounts the same claim')
    const plans = logEntries(local.agent.logFile(`${RELEASE}-0`), 'restore plan', deletedAt)
    const written = plans
      .flatMap((p) => p.changelogs as { checkpoint: string | null; end: string }[])
      .filter((c) => c.end !== '0')
    assert.ok(written.length > 0, 'the recreated pod planned the restoration of changelogs with records')
    assert.deepEqual(
      written.filter((c) => c.checkpoint === null),
      [],
      'the recreated pod found on its volume a checkpoint for every changelog partition with records'
    )

    // The burst: one pod processes IN_FLIGHT_PER_POD lines at a time, so the lag asks for more pods.
    timeline = new ReplicaTimeline(client, NAMESPACE, RELEASE, lag)
    timeline.markZero()
    await produce(BURST_LINES)
    await waitFor('KEDA to scale the StatefulSet out', async () => (await statefulSet()).spec.replicas > 1, {
      timeoutMs: 120_000,
      intervalMs: 500
    })
    await waitFor('the burst consumed', async () => (await lag()) === 0, { timeoutMs: 300_000, intervalMs: 1000 })
    await waitFor('KEDA to scale the StatefulSet back in to 1', async () => (await statefulSet()).spec.replicas === 1, {
      timeoutMs: 240_000,
      intervalMs: 1000
    })
    await waitFor('one pod left', async () => (await statefulSet()).status.replicas === 1, { timeoutMs: 120_000 })
    await timeline.stop()
    console.log(`scaling timeline (t = 0: ${BURST_LINES} lines produced)\n${timeline.table()}`)
    const peak = timeline.maxReplicas()
    assert.ok(peak > 1 && peak <= MAX_REPLICAS, `scaled out within the bounds (peak ${peak})`)

    const output = await readWordCounts(counts, PARTITIONS, truth, 60_000)
    assert.deepEqual(output.notIncreasing, [], 'exactly-once: no count repeats or goes back')
    assert.deepEqual(output.latest, truth, 'final counts equal the input: none lost, none counted twice')
  } finally {
    await timeline?.stop()
    await local.stop()
    await producer.close()
    await admin.close()
  }
})
