import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Command } from 'commander'
import { chartDir } from '../../scripts/deploy/helm.ts'
import { repoRoot } from '../../scripts/kafka/broker.ts'
import type { ScalerAccess } from '../../src/autoscale/keda/access-policy.ts'
import { parseTriggerMetadata } from '../../src/autoscale/keda/trigger-metadata.ts'
import { scalingPolicyConfigSchema } from '../../src/autoscale/policy/config.ts'
import { registerScaler } from '../../src/cli/commands/scaler.ts'
import { configFromEnvironment, resolveConfig } from '../../src/runtime/config.ts'
import { decodeStrictly, type KubernetesObject, validateObject } from './support/kubernetes-schemas.ts'
import { lint, namespace, type Rendered, release, render } from './support/render.ts'

/**
 * The chart rendered by the real helm with several value sets: every object valid against the Kubernetes and KEDA
 * schemas, and the values that matter landing where the app and the scaler read them.
 */
const valueSets: Record<string, object> = {
  defaults: {},
  'no autoscaling, no volume': {
    autoscaling: { enabled: false },
    scaler: { enabled: false },
    persistence: { enabled: false },
    podDisruptionBudget: { enabled: false },
    topologySpread: { enabled: false },
    metrics: { prometheusAnnotations: false },
    replicas: 2
  },
  'exactly-once, standbys, Kafka credentials from a Secret': {
    args: ['/app/dist/app.js'],
    app: { processingGuarantee: 'exactly_once_v2', numStandbyReplicas: 1, shutdownTimeoutMs: 60_500 },
    terminationGracePeriodSeconds: 120,
    persistence: { size: '50Gi', storageClassName: 'fast-ssd' },
    kafka: {
      bootstrapServers: 'kafka-0.kafka:9093,kafka-1.kafka:9093',
      securityProtocol: 'SASL_SSL',
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'orders', passwordSecret: { name: 'kafka-user', key: 'password' } },
      tls: {
        caSecret: { name: 'kafka-ca', key: 'ca.crt' },
        clientCertSecret: 'kafka-client',
        endpointIdentification: true
      }
    },
    env: [
      { name: 'STREAMLANE_COMMIT_INTERVAL_MS', valueFrom: { configMapKeyRef: { name: 'tuning', key: 'commit' } } },
      { name: 'STREAMLANE_LOG_LEVEL', value: 'debug' }
    ],
    envFrom: [{ secretRef: { name: 'kafka-settings' } }],
    extraVolumes: [{ name: 'reference-data', configMap: { name: 'reference-data' } }],
    extraVolumeMounts: [{ name: 'reference-data', mountPath: '/app/reference', readOnly: true }],
    autoscaling: {
      minReplicas: 0,
      maxReplicas: 24,
      triggerType: 'external-push',
      topics: 'orders,refunds',
      metadata: { scaleInStabilizationSeconds: '120', perReplicaRate: 500 }
    },
    podAnnotations: { team: 'orders' },
    nodeSelector: { pool: 'streams' }
  },
  'secured endpoints': {
    app: { metricsTokenSecret: { name: 'metrics-token', key: 'tokens' }, metricsTlsSecret: 'metrics-tls' },
    scaler: {
      reportTokenSecret: { name: 'report-token', key: 'token' },
      metricsTokenSecret: { name: 'scaler-metrics-token', key: 'token' },
      groups: 'word-count,orders-*',
      allowedBrokers: 'kafka-dr.kafka:9092',
      tls: {
        secretName: 'scaler-tls',
        caSecret: { name: 'scaler-ca', key: 'ca.crt' },
        clientCaSecret: { name: 'keda-ca', key: 'ca.crt' }
      },
      networkPolicy: {
        enabled: true,
        kedaNamespace: 'keda-system',
        httpFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]
      }
    },
    autoscaling: { authenticationRef: { name: 'streamlane-scaler-tls', kind: 'TriggerAuthentication' } }
  },
  'Prometheus Operator monitoring and the Grafana dashboard': {
    metrics: {
      serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
      prometheusRule: { enabled: true },
      grafanaDashboard: { enabled: true }
    }
  },
  'a shared scaler, own HPA behaviour': {
    scaler: { enabled: false },
    autoscaling: {
      scalerAddress: 'streamlane-scaler.keda.svc:9090',
      bootstrapServers: 'kafka-0.kafka:9093,kafka-1.kafka:9093',
      fallback: { replicas: null },
      behavior: {
        scaleDown: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }] }
      },
      metadata: { hpaScaleDownLimit: '2' }
    }
  }
}

function container(rendered: Rendered) {
  return rendered.one('StatefulSet').spec.template.spec.containers[0]
}

interface Container {
  env: { name: string; value?: string; valueFrom?: unknown }[]
  volumeMounts: { name: string; mountPath: string }[]
}

function envOf(c: Pick<Container, 'env'>) {
  return new Map(c.env.map((e) => [e.name, e]))
}

for (const [name, values] of Object.entries(valueSets)) {
  test(`${name}: helm lint passes, every object matches its schema and has no unknown field`, async () => {
    const rendered = await render(values)
    for (const object of rendered.objects) {
      validateObject(object)
      assert.equal(object.metadata.namespace, namespace, `${object.kind} ${object.metadata.name}`)
    }
    const strict = await decodeStrictly(rendered.yaml)
    assert.deepEqual(strict.errors, [])
    assert.equal(strict.ok.length + strict.skipped.length, rendered.objects.length)
    assert.ok(
      strict.skipped.every((what) => /^(keda\.sh\/v1alpha1 ScaledObject|monitoring\.coreos\.com\/v1) /.test(what)),
      strict.skipped.join()
    )
    const linted = await lint(values)
    assert.equal(linted.code, 0, linted.stdout + linted.stderr)
  })
}

test('defaults: the objects a KEDA-scaled app needs, and nothing else', async () => {
  const rendered = await render()
  assert.deepEqual(rendered.kinds(), [
    'Deployment',
    'PodDisruptionBudget',
    'ScaledObject',
    'Secret',
    'Service',
    'Service',
    'StatefulSet'
  ])
})

test('StatefulSet: pod name as group.instance.id, a volume per pod at the state dir, grace period above the close', async () => {
  const rendered = await render()
  const set = rendered.one('StatefulSet')
  const c = container(rendered)
  const env = envOf(c)

  assert.deepEqual(env.get('STREAMLANE_GROUP_INSTANCE_ID')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } })
  assert.equal(set.spec.podManagementPolicy, 'Parallel')

  const stateDir = env.get('STREAMLANE_STATE_DIR')?.value
  assert.equal(stateDir, '/var/lib/streamlane')
  const claim = set.spec.volumeClaimTemplates[0]
  assert.equal(set.spec.volumeClaimTemplates.length, 1)
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce'])
  assert.equal(claim.spec.resources.requests.storage, '10Gi')
  const mount = c.volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name)
  assert.equal(mount.mountPath, stateDir)
  assert.ok(!set.spec.template.spec.volumes.some((v: { name: string }) => v.name === claim.metadata.name))

  const graceSeconds = set.spec.template.spec.terminationGracePeriodSeconds
  const shutdownMs = Number(env.get('STREAMLANE_SHUTDOWN_TIMEOUT_MS')?.value)
  assert.equal(shutdownMs, 30_000)
  assert.ok(graceSeconds * 1000 > shutdownMs, `grace ${graceSeconds} s must exceed the ${shutdownMs} ms close`)
  assert.equal(graceSeconds, 45)
})

test('grace period: derived from shutdownTimeoutMs, rounded up, or taken as set when above it', async () => {
  const derived = await render({ app: { shutdownTimeoutMs: 60_500 } })
  assert.equal(derived.one('StatefulSet').spec.template.spec.terminationGracePeriodSeconds, 61 + 15)
  const set = await render({ app: { shutdownTimeoutMs: 60_500 }, terminationGracePeriodSeconds: 62 })
  assert.equal(set.one('StatefulSet').spec.template.spec.terminationGracePeriodSeconds, 62)
})

test('probes: readiness on /ready, liveness on /healthz, on the port the app listens on, on all interfaces', async () => {
  const rendered = await render()
  const c = container(rendered)
  const env = envOf(c)
  assert.equal(c.readinessProbe.httpGet.path, '/ready')
  assert.equal(c.livenessProbe.httpGet.path, '/healthz')
  const port = c.ports.find((p: { name: string }) => p.name === c.readinessProbe.httpGet.port)
  assert.equal(port.containerPort, Number(env.get('STREAMLANE_METRICS_PORT')?.value))
  assert.equal(c.livenessProbe.httpGet.port, c.readinessProbe.httpGet.port)
  assert.equal(env.get('STREAMLANE_METRICS_HOST')?.value, '0.0.0.0')
})

test('the app environment is configuration Streamlane reads, and it validates', async () => {
  const rendered = await render(valueSets['exactly-once, standbys, Kafka credentials from a Secret']!)
  const env = envOf(container(rendered))
  // Environment variables read outside the app config: the logger's level.
  const readElsewhere = new Set(['STREAMLANE_LOG_LEVEL'])
  const plain: Record<string, string> = {}
  for (const [name, entry] of env) {
    if (readElsewhere.has(name)) continue
    // The downward API's pod name, or a ConfigMap's value.
    const value = entry.value ?? (name === 'STREAMLANE_GROUP_INSTANCE_ID' ? 'orders-0' : '1000')
    assert.equal(Object.keys(configFromEnvironment({ [name]: value })).length, 1, `${name} is not a config variable`)
    plain[name] = value
  }
  const config = resolveConfig(configFromEnvironment(plain))
  assert.equal(config.applicationId, 'word-count')
  assert.equal(config.processingGuarantee, 'exactly_once_v2')
  assert.equal(config.numStandbyReplicas, 1)
  assert.equal(config.stateDir, '/var/lib/streamlane')
  assert.equal(config.metricsHost, '0.0.0.0')
  assert.equal(config.scalerUrl, `http://${release}-streamlane-scaler.${namespace}.svc:8080`)
  // A user entry with a chart-owned name replaces it rather than duplicating it.
  assert.equal(env.get('STREAMLANE_LOG_LEVEL')?.value, 'debug')
  assert.equal(container(rendered).env.filter((e: { name: string }) => e.name === 'STREAMLANE_LOG_LEVEL').length, 1)
})

/** Maps each file variable of a container to `<Secret name>/<key>`, through its volume mounts. */
function secretFiles(object: KubernetesObject, c: Container): (name: string) => string {
  const pod = object.spec.template.spec
  const env = envOf(c)
  return (name) => {
    const file = env.get(name)?.value
    assert.ok(file, `${name} is not set`)
    const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`))
    assert.ok(mount, `${file} is in no mounted volume`)
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name)
    return `${volume.secret.secretName}/${file.slice(mount.mountPath.length + 1)}`
  }
}

test('secured endpoints: tokens and certificates from the mounted Secrets, HTTPS probes and reports', async () => {
  const rendered = await render(valueSets['secured endpoints']!)
  const c = container(rendered)
  const app = secretFiles(rendered.one('StatefulSet'), c)
  assert.equal(app('STREAMLANE_METRICS_TOKEN_FILE'), 'metrics-token/tokens')
  assert.equal(app('STREAMLANE_METRICS_TLS_CERT_FILE'), 'metrics-tls/tls.crt')
  assert.equal(app('STREAMLANE_METRICS_TLS_KEY_FILE'), 'metrics-tls/tls.key')
  assert.equal(app('STREAMLANE_SCALER_REPORT_TOKEN_FILE'), 'report-token/token')
  assert.equal(app('NODE_EXTRA_CA_CERTS'), 'scaler-ca/ca.crt')
  assert.equal(c.readinessProbe.httpGet.scheme, 'HTTPS')
  assert.equal(c.livenessProbe.httpGet.scheme, 'HTTPS')
  assert.equal(rendered.one('StatefulSet').spec.template.metadata.annotations['prometheus.io/scheme'], 'https')
  const plain: Record<string, string> = {}
  for (const [name, entry] of envOf(c)) if (entry.value !== undefined) plain[name] = entry.value
  const config = resolveConfig(configFromEnvironment(plain))
  assert.equal(config.metricsTokenFile, '/etc/streamlane/metrics-token/tokens')
  assert.equal(config.scalerReportTokenFile, '/etc/streamlane/report-token/token')
  assert.equal(config.scalerUrl, `https://${release}-streamlane-scaler.${namespace}.svc:8080`)

  const scalerDeployment = rendered.one('Deployment', '-scaler')
  const sc = scalerDeployment.spec.template.spec.containers[0]
  const scaler = secretFiles(scalerDeployment, sc)
  assert.equal(scaler('STREAMLANE_SCALER_REPORT_TOKEN_FILE'), 'report-token/token')
  assert.equal(scaler('STREAMLANE_SCALER_TOKEN_FILE'), 'scaler-metrics-token/token')
  assert.equal(scaler('STREAMLANE_SCALER_TLS_CERT_FILE'), 'scaler-tls/tls.crt')
  assert.equal(scaler('STREAMLANE_SCALER_TLS_KEY_FILE'), 'scaler-tls/tls.key')
  assert.equal(scaler('STREAMLANE_SCALER_GRPC_CLIENT_CA_FILE'), 'keda-ca/ca.crt')
  const scalerEnv = envOf(sc)
  assert.equal(scalerEnv.get('STREAMLANE_SCALER_GROUPS')?.value, 'word-count,orders-*')
  assert.equal(scalerEnv.get('STREAMLANE_SCALER_ALLOWED_BROKERS')?.value, 'kafka-dr.kafka:9092')
  assert.equal(sc.readinessProbe.httpGet.scheme, 'HTTPS')
  // The scaler's private key stays in the scaler's pod.
  assert.ok(
    !rendered
      .one('StatefulSet')
      .spec.template.spec.volumes.some(
        (v: { secret?: { secretName: string } }) => v.secret?.secretName === 'scaler-tls'
      )
  )

  // Ingress to the scaler: gRPC from KEDA's namespace only, HTTP from the app's pods and the named peers only.
  const policy = rendered.one('NetworkPolicy')
  assert.deepEqual(policy.spec.podSelector.matchLabels, scalerDeployment.spec.selector.matchLabels)
  const [grpcRule, httpRule] = policy.spec.ingress
  assert.deepEqual(grpcRule.ports, [{ port: 'grpc', protocol: 'TCP' }])
  assert.deepEqual(grpcRule.from, [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda-system' } } }
  ])
  assert.deepEqual(httpRule.ports, [{ port: 'http', protocol: 'TCP' }])
  assert.deepEqual(httpRule.from[0].podSelector.matchLabels, rendered.one('StatefulSet').spec.selector.matchLabels)
  assert.equal(httpRule.from.length, 2)

  const trigger = rendered.one('ScaledObject').spec.triggers[0]
  assert.equal(trigger.metadata.enableTLS, 'true')
  assert.deepEqual(trigger.authenticationRef, { name: 'streamlane-scaler-tls', kind: 'TriggerAuthentication' })
})

test('every variable the chart gives the scaler is an option of `streamlane scaler`', async () => {
  const program = new Command()
  registerScaler(program)
  const scalerCommand = program.commands.find((c) => c.name() === 'scaler')!
  const known = new Set(scalerCommand.options.map((o) => o.envVar).filter(Boolean))
  for (const values of Object.values(valueSets)) {
    const rendered = await render(values)
    const deployment = rendered.objects.find((o) => o.kind === 'Deployment')
    if (!deployment) continue
    for (const { name } of deployment.spec.template.spec.containers[0].env as { name: string }[]) {
      assert.ok(known.has(name), `the scaler reads no ${name}`)
    }
  }
})

test('report token: generated when none is named, the same Secret in the app and the scaler', async () => {
  const rendered = await render()
  const secret = rendered.one('Secret', '-report-token')
  const token = Buffer.from(secret.data?.token ?? '', 'base64').toString()
  assert.match(token, /^[A-Za-z0-9]{48}$/)
  assert.equal(
    secretFiles(rendered.one('StatefulSet'), container(rendered))('STREAMLANE_SCALER_REPORT_TOKEN_FILE'),
    `${secret.metadata.name}/token`
  )
  const scalerDeployment = rendered.one('Deployment', '-scaler')
  assert.equal(
    secretFiles(
      scalerDeployment,
      scalerDeployment.spec.template.spec.containers[0]
    )('STREAMLANE_SCALER_REPORT_TOKEN_FILE'),
    `${secret.metadata.name}/token`
  )
  // Scaling only this app by default.
  assert.equal(
    envOf(scalerDeployment.spec.template.spec.containers[0]).get('STREAMLANE_SCALER_GROUPS')?.value,
    'word-count'
  )
  const named = await render({ scaler: { reportTokenSecret: { name: 'mine', key: 'token' } } })
  assert.ok(!named.objects.some((o) => o.kind === 'Secret'))
})

test('Kafka TLS and SASL: the same settings for the app and the scaler, secrets as mounted files', async () => {
  const rendered = await render(valueSets['exactly-once, standbys, Kafka credentials from a Secret']!)
  const scalerDeployment = rendered.one('Deployment', '-scaler')
  const scalerContainer = scalerDeployment.spec.template.spec.containers[0]
  for (const [object, c] of [
    [rendered.one('StatefulSet'), container(rendered)],
    [scalerDeployment, scalerContainer]
  ] as const) {
    const files = secretFiles(object, c)
    assert.equal(files('KAFKA_SASL_PASSWORD_FILE'), 'kafka-user/password')
    assert.equal(files('KAFKA_SSL_CA_FILE'), 'kafka-ca/ca.crt')
    assert.equal(files('KAFKA_SSL_CERT_FILE'), 'kafka-client/tls.crt')
    assert.equal(files('KAFKA_SSL_KEY_FILE'), 'kafka-client/tls.key')
    const env = envOf(c)
    assert.equal(env.get('KAFKA_SECURITY_PROTOCOL')?.value, 'SASL_SSL')
    assert.equal(env.get('KAFKA_SASL_MECHANISM')?.value, 'SCRAM-SHA-512')
    assert.equal(env.get('KAFKA_SASL_USERNAME')?.value, 'orders')
    assert.equal(env.get('KAFKA_SSL_ENDPOINT_IDENTIFICATION')?.value, 'true')
  }
  const plain: Record<string, string> = {}
  for (const [name, entry] of envOf(container(rendered))) if (entry.value !== undefined) plain[name] = entry.value
  const security = resolveConfig(configFromEnvironment(plain)).security
  assert.equal(security?.securityProtocol, 'SASL_SSL')
  assert.equal(security?.sasl?.passwordFile, '/etc/streamlane/kafka-sasl-password/password')
  assert.equal(security?.ssl?.caFile, '/etc/streamlane/kafka-ca/ca.crt')
  // Nothing of it without the values: the app module's own security settings apply.
  const plainEnv = envOf(container(await render()))
  assert.deepEqual(
    [...plainEnv.keys()].filter((name) => name.startsWith('KAFKA_') && name !== 'KAFKA_BROKERS'),
    []
  )
})

test('security: non-root, read-only root filesystem, no capabilities, no API token', async () => {
  const rendered = await render()
  for (const kind of ['StatefulSet', 'Deployment']) {
    const pod = rendered.one(kind).spec.template.spec
    assert.equal(pod.securityContext.runAsNonRoot, true, kind)
    assert.equal(pod.automountServiceAccountToken, false, kind)
    const sc = pod.containers[0].securityContext
    assert.equal(sc.readOnlyRootFilesystem, true, kind)
    assert.equal(sc.allowPrivilegeEscalation, false, kind)
    assert.deepEqual(sc.capabilities.drop, ['ALL'], kind)
  }
})

test('headless Service governs the StatefulSet; PDB and topology spread select its pods', async () => {
  const rendered = await render()
  const set = rendered.one('StatefulSet')
  const podLabels = set.spec.template.metadata.labels
  const headless = rendered.one('Service', '-headless')
  assert.equal(set.spec.serviceName, headless.metadata.name)
  assert.equal(headless.spec.clusterIP, 'None')
  assert.equal(headless.spec.ports[0].targetPort, container(rendered).ports[0].name)
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([key, value]) => podLabels[key] === value)
  assert.ok(selects(headless.spec.selector))
  const pdb = rendered.one('PodDisruptionBudget')
  assert.equal(pdb.spec.maxUnavailable, 1)
  assert.ok(selects(pdb.spec.selector.matchLabels))
  const spread = set.spec.template.spec.topologySpreadConstraints
  assert.deepEqual(
    spread.map((s: { topologyKey: string }) => s.topologyKey),
    ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']
  )
  for (const constraint of spread) assert.ok(selects(constraint.labelSelector.matchLabels))
})

function scalerMetadata(rendered: Rendered): Record<string, string> {
  const scaled = rendered.one('ScaledObject')
  assert.equal(scaled.spec.triggers.length, 1)
  return scaled.spec.triggers[0].metadata
}

/** The default brokers and access of this release's scaler, from its environment; any broker for a shared one. */
function scalerConfiguration(rendered: Rendered): [string[], ScalerAccess] {
  const deployment = rendered.objects.find((o) => o.kind === 'Deployment')
  if (!deployment) return [[], { allowAnyBrokers: true }]
  const env = envOf(deployment.spec.template.spec.containers[0])
  const list = (name: string) => (env.get(name)?.value ?? '').split(',').filter(Boolean)
  return [
    list('KAFKA_BROKERS'),
    { groups: list('STREAMLANE_SCALER_GROUPS'), allowedBrokers: list('STREAMLANE_SCALER_ALLOWED_BROKERS') }
  ]
}

test('ScaledObject: bounds equal to the scaler metadata, the app group, the chart scaler, AverageValue', async () => {
  for (const values of Object.values(valueSets)) {
    const rendered = await render(values)
    if (!rendered.objects.some((o) => o.kind === 'ScaledObject')) continue
    const scaled = rendered.one('ScaledObject')
    const metadata = scalerMetadata(rendered)
    // The scaler itself parses the metadata, configured as the chart configures it (its brokers, allowed brokers
    // and groups): every key must be one it knows, with a valid value, and the group and brokers ones it serves.
    const trigger = parseTriggerMetadata(metadata, 'metadata', ...scalerConfiguration(rendered))
    assert.equal(scaled.spec.minReplicaCount, trigger.targets.minReplicas)
    assert.equal(scaled.spec.maxReplicaCount, trigger.targets.maxReplicas)
    assert.equal(trigger.groupId, envOf(container(rendered)).get('STREAMLANE_APPLICATION_ID')?.value)
    assert.equal(
      trigger.targets.standbyReplicas,
      Number(envOf(container(rendered)).get('STREAMLANE_NUM_STANDBY_REPLICAS')?.value)
    )
    assert.equal(scaled.spec.triggers[0].metricType, 'AverageValue')
    // The scaler plans scale-in through the HPA's scale-down Pods limit when there is one, and only then.
    const podsLimit = scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies?.find(
      (p: { type: string }) => p.type === 'Pods'
    )
    assert.equal(trigger.targets.hpaScaleDownLimit, podsLimit?.value)
    assert.deepEqual(scaled.spec.scaleTargetRef, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: rendered.one('StatefulSet').metadata.name
    })
  }
})

test("ScaledObject defaults: the chart scaler, HPA behaviour that lets the scaler's step through, a fallback that never scales in", async () => {
  const rendered = await render()
  const scaled = rendered.one('ScaledObject')
  const metadata = scalerMetadata(rendered)
  const service = rendered.one('Service', '-scaler')
  const grpc = service.spec.ports.find((p: { name: string }) => p.name === 'grpc')
  assert.equal(metadata.scalerAddress, `${service.metadata.name}.${namespace}.svc:${grpc.port}`)
  assert.equal(metadata.consumerGroup, 'word-count')
  assert.equal(metadata.bootstrapServers, 'kafka.kafka.svc:9092')
  assert.deepEqual(scaled.spec.fallback, { failureThreshold: 3, replicas: 1, behavior: 'currentReplicasIfHigher' })
  const behavior = scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior
  assert.equal(behavior.scaleDown.stabilizationWindowSeconds, 0)
  assert.equal(behavior.scaleUp.stabilizationWindowSeconds, 0)
  // The HPA's default scale-down rate: a scale-in the scaler sized goes in one step, and the scaler plans with no
  // scale-down limit (docs/keda.md's recommended ScaledObject).
  assert.deepEqual(behavior.scaleDown.policies, [{ type: 'Percent', value: 100, periodSeconds: 15 }])
  assert.equal(
    parseTriggerMetadata(metadata, 'metadata', ...scalerConfiguration(rendered)).targets.hpaScaleDownLimit,
    undefined
  )
  assert.deepEqual(behavior.scaleUp.policies, [{ type: 'Pods', value: scaled.spec.maxReplicaCount, periodSeconds: 15 }])

  // Standbys pace the scaler's own steps (its standbyReplicas), not the HPA's.
  const standbys = await render({ app: { numStandbyReplicas: 2 } })
  const standbysTrigger = parseTriggerMetadata(scalerMetadata(standbys), 'metadata', ...scalerConfiguration(standbys))
  assert.equal(standbysTrigger.targets.standbyReplicas, 2)
  assert.equal(standbysTrigger.targets.hpaScaleDownLimit, undefined)
  assert.deepEqual(
    standbys.one('ScaledObject').spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.policies,
    [{ type: 'Percent', value: 100, periodSeconds: 15 }]
  )
})

test("ScaledObject with a Pods scale-down limit: the HPA policy and the trigger's hpaScaleDownLimit agree", async () => {
  const rendered = await render({ autoscaling: { scaleDown: { type: 'Pods', value: 2 } } })
  const behavior = rendered.one('ScaledObject').spec.advanced.horizontalPodAutoscalerConfig.behavior
  assert.deepEqual(behavior.scaleDown, {
    stabilizationWindowSeconds: 0,
    policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }]
  })
  const trigger = parseTriggerMetadata(scalerMetadata(rendered), 'metadata', ...scalerConfiguration(rendered))
  assert.equal(trigger.targets.hpaScaleDownLimit, 2)
})

test('scaler Deployment: one replica on all interfaces, ports the Service and the app use', async () => {
  const rendered = await render()
  const deployment = rendered.one('Deployment', '-scaler')
  assert.equal(deployment.spec.replicas, 1)
  const c = deployment.spec.template.spec.containers[0]
  const env = envOf(c)
  assert.equal(env.get('STREAMLANE_SCALER_HOST')?.value, '0.0.0.0')
  assert.equal(env.get('KAFKA_BROKERS')?.value, 'kafka.kafka.svc:9092')
  const service = rendered.one('Service', '-scaler')
  for (const port of service.spec.ports) {
    const containerPort = c.ports.find((p: { name: string }) => p.name === port.targetPort)
    assert.equal(containerPort.containerPort, port.port, port.name)
    assert.equal(Number(env.get(`STREAMLANE_SCALER_${port.name.toUpperCase()}_PORT`)?.value), port.port)
  }
  assert.equal(c.readinessProbe.httpGet.path, '/healthz')
  assert.equal(
    envOf(container(rendered)).get('STREAMLANE_SCALER_URL')?.value,
    `http://${service.metadata.name}.${namespace}.svc:8080`
  )
})

test('without autoscaling the StatefulSet has its own replica count; without a volume the state is an emptyDir', async () => {
  const rendered = await render(valueSets['no autoscaling, no volume']!)
  const set = rendered.one('StatefulSet')
  assert.equal(set.spec.replicas, 2)
  assert.equal(set.spec.volumeClaimTemplates, undefined)
  assert.deepEqual(
    set.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'state'),
    { name: 'state', emptyDir: {} }
  )
  assert.equal(envOf(container(rendered)).get('STREAMLANE_SCALER_URL'), undefined)
  assert.equal((await render()).one('StatefulSet').spec.replicas, undefined, 'KEDA owns the count')
})

test('values.schema.json accepts exactly the trigger keys the scaler knows, less those the chart sets', async () => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8'))
  const allowed = Object.keys(schema.properties.autoscaling.properties.metadata.properties)
  for (const key of allowed) {
    // parseTriggerMetadata refuses unknown keys first (KEDA's TLS keys it accepts and ignores); '1' may be out of a
    // key's range, which is a different error.
    assert.doesNotThrow(() => {
      try {
        parseTriggerMetadata({ consumerGroup: 'g', bootstrapServers: 'k:9092', [key]: '1' })
      } catch (error) {
        if ((error as Error).message.includes('unknown key')) throw error
      }
    }, key)
  }
  // Every policy knob is reachable: through autoscaling.metadata, or set by the chart from its own values.
  const setByChart = scalerMetadata(await render({ autoscaling: { topics: 't' } }))
  for (const key of Object.keys(scalingPolicyConfigSchema.shape)) {
    assert.ok(allowed.includes(key) || key in setByChart, `policy key ${key} cannot be set through the chart`)
  }
})

test('the chart version of Streamlane is the package version', () => {
  const chart = readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
  assert.match(chart, new RegExp(`^appVersion: "${pkg.version.replaceAll('.', '\\.')}"$`, 'm'))
})

test('a misspelt field inside a free-form value (a security context) is caught by the strict decoding', async () => {
  const rendered = await render({ podSecurityContext: { runAsNonRoot: true, runAsUsr: 10001 } })
  const strict = await decodeStrictly(rendered.yaml)
  assert.equal(strict.errors.length, 2, strict.errors.join('\n')) // the StatefulSet and the scaler's Deployment
  for (const error of strict.errors) assert.match(error, /unknown field "runAsUsr"/)
})
