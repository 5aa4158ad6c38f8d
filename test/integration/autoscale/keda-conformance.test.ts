import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { metricNameFor } from '../../../src/autoscale/keda/scaler-service.ts'
import { type RunningScaler, startScaler } from '../../../src/autoscale/keda/start.ts'
import { loadServerTls } from '../../../src/endpoint/index.ts'
import { makeTestCerts } from '../../support/certs.ts'
import { type KnownLag, setUpKnownLag } from './fixtures/known-lag.ts'

/**
 * KEDA's own generated Go client (conformance/keda) against the scaler running in this process, on a topic and
 * groups with known lag. The expected numbers are worked out by hand in the comments, not by calling the policy.
 */
const conformanceDir = fileURLToPath(new URL('../../../conformance/keda/', import.meta.url))
const goAvailable = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0

let known: KnownLag
let scaler: RunningScaler

before(async () => {
  known = await setUpKnownLag('keda-conf')
  // The triggers name the test broker in bootstrapServers: it is the scaler's default cluster, so allowed.
  scaler = await startScaler({
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: null,
    defaultBrokers: known.brokers,
    requestTimeoutMs: 5_000
  })
})

after(async () => {
  await scaler?.close()
  await known?.close()
})

function runGoTest(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // GOTOOLCHAIN=local: build with the installed Go, never fetch another toolchain. Modules come through the
    // module proxy (GOPROXY's default) on a fresh machine, pinned by go.sum.
    const child = spawn('go', ['test', '-count=1', '-v', '-run', 'TestExternalScalerConformance', './...'], {
      cwd: conformanceDir,
      env: { ...process.env, GOTOOLCHAIN: 'local', ...env }
    })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code: code ?? 1, output }))
  })
}

test('KEDA externalscaler client: every RPC, numbers and errors', {
  skip: goAvailable ? false : 'go is not installed',
  timeout: 300_000
}, async () => {
  const { brokers, topic, groups } = known
  const base = { bootstrapServers: brokers.join(','), topics: topic }
  const cases = [
    {
      // No member: KEDA has it at zero. Lag 26 > activationLag 0 -> activate at max(1, minReplicas) = 2.
      name: 'busy',
      namespace: 'conformance',
      metadata: { ...base, consumerGroup: groups.busy, minReplicas: '2', maxReplicas: '10' },
      expect: {
        metricName: metricNameFor(groups.busy),
        targetSize: 1,
        metricValue: 2,
        active: true,
        replicas: 2,
        currentReplicas: 0
      }
    },
    {
      // One member owning 3 partitions, 1 rec/s per replica: backlog 26 drains in 2 s with 13 -> capped at 3
      // partitions. From 1 replica the HPA computes 3 / (1 * 1) = 3, outside its 10% band: ceil(3 / 1) = 3.
      name: 'live',
      namespace: 'conformance',
      metadata: {
        ...base,
        consumerGroup: groups.live,
        perReplicaRate: '1',
        lagDrainTargetSeconds: '2',
        maxReplicas: '10'
      },
      expect: {
        metricName: metricNameFor(groups.live),
        targetSize: 1,
        metricValue: 3,
        active: true,
        replicas: 3,
        currentReplicas: 1
      }
    },
    {
      // Every offset committed, no member, minReplicas 0: idle at zero, metric 0, not active.
      name: 'idle',
      namespace: 'conformance',
      metadata: { ...base, consumerGroup: groups.idle, minReplicas: '0' },
      expect: {
        metricName: metricNameFor(groups.idle),
        targetSize: 1,
        metricValue: 0,
        active: false,
        replicas: 0,
        currentReplicas: 0
      }
    },
    {
      // Never committed, let through by allowUnknownGroup: lag 50 from the log start -> activate at 1.
      name: 'never',
      namespace: 'conformance',
      metadata: { ...base, consumerGroup: groups.never, allowUnknownGroup: 'true' },
      expect: {
        metricName: metricNameFor(groups.never),
        targetSize: 1,
        metricValue: 1,
        active: true,
        replicas: 1,
        currentReplicas: 0
      }
    },
    {
      name: 'unknown-group',
      namespace: 'conformance',
      metadata: { ...base, consumerGroup: `${groups.never}-typo` },
      expect: {
        metricName: metricNameFor(`${groups.never}-typo`),
        targetSize: 1,
        metricsCode: 'NotFound',
        activeCode: 'NotFound',
        errorContains: 'STREAMLANE_SCALER_GROUP_UNKNOWN'
      }
    },
    {
      name: 'unknown-topic',
      namespace: 'conformance',
      metadata: { ...base, consumerGroup: groups.busy, topics: `${topic}-missing` },
      expect: {
        metricName: metricNameFor(groups.busy),
        targetSize: 1,
        metricsCode: 'NotFound',
        activeCode: 'NotFound',
        errorContains: `${topic}-missing`
      }
    },
    {
      name: 'no-group',
      namespace: 'conformance',
      metadata: { ...base },
      expect: {
        specCode: 'InvalidArgument',
        metricsCode: 'InvalidArgument',
        activeCode: 'InvalidArgument',
        errorContains: 'metadata.consumerGroup'
      }
    }
  ]
  const { code, output } = await runGoTest({
    STREAMLANE_SCALER_ADDR: `127.0.0.1:${scaler.grpcPort}`,
    STREAMLANE_CONFORMANCE_CASES: JSON.stringify(cases)
  })
  console.log(output)
  assert.equal(code, 0, `go test failed:\n${output}`)
  assert.match(output, /--- PASS: TestExternalScalerConformance/)
  for (const c of cases) assert.match(output, new RegExp(`--- PASS: TestExternalScalerConformance/${c.name}\\b`))
})

test('KEDA externalscaler client over mutual TLS, dialled as KEDA dials a trigger with enableTLS', {
  skip: goAvailable ? false : 'go is not installed',
  timeout: 300_000
}, async () => {
  const certs = makeTestCerts()
  const tls = loadServerTls(
    { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
    { certFile: 'cert', keyFile: 'key', clientCaFile: 'ca' }
  )
  const secured = await startScaler({
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: null,
    defaultBrokers: known.brokers,
    requestTimeoutMs: 5_000,
    ...(tls ? { tls } : {})
  })
  try {
    const cases = [
      {
        // As the first case above, now over TLS with KEDA's client certificate.
        name: 'busy-tls',
        namespace: 'conformance',
        metadata: { consumerGroup: known.groups.busy, topics: known.topic, minReplicas: '2', enableTLS: 'true' },
        expect: {
          metricName: metricNameFor(known.groups.busy),
          targetSize: 1,
          metricValue: 2,
          active: true,
          replicas: 2,
          currentReplicas: 0
        }
      }
    ]
    const { code, output } = await runGoTest({
      // The certificate names localhost: the name KEDA dials must be one the scaler's certificate carries.
      STREAMLANE_SCALER_ADDR: `localhost:${secured.grpcPort}`,
      STREAMLANE_CONFORMANCE_CASES: JSON.stringify(cases),
      STREAMLANE_SCALER_CA_CERT: certs.caFile,
      STREAMLANE_SCALER_TLS_CLIENT_CERT: certs.clientCertFile,
      STREAMLANE_SCALER_TLS_CLIENT_KEY: certs.clientKeyFile
    })
    assert.equal(code, 0, `go test over TLS failed:\n${output}`)
    assert.match(output, /--- PASS: TestExternalScalerConformance\/busy-tls\b/)
  } finally {
    await secured.close()
    certs.remove()
  }
})
