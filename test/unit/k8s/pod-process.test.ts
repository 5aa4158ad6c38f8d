import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KubeObject } from '../../../scripts/k8s/kube-client.ts'
import { hostPathOf, imageName, PodSpecError, resolveContainer } from '../../support/k8s/pod-process.ts'

const pod: KubeObject = { metadata: { name: 'wc-1', namespace: 'apps', uid: 'u1' }, spec: { nodeName: 'local-node' } }
const source = {
  secretValue: async (namespace: string, name: string, key: string) => `${namespace}/${name}/${key}`,
  configMapValue: async () => 'from-config-map'
}

test('image names lose registry, tag and digest', () => {
  assert.equal(imageName('streamlane-scaler'), 'streamlane-scaler')
  assert.equal(imageName('registry.example:5000/team/streamlane-scaler:0.1.0'), 'streamlane-scaler')
  assert.equal(imageName('streamlane-word-count@sha256:abc'), 'streamlane-word-count')
})

test('paths under a mount move under its folder; the longest mount wins; other values stay', () => {
  const mounts = new Map([
    ['/etc/streamlane', '/host/a'],
    ['/etc/streamlane/report-token', '/host/b'],
    ['/var/lib/streamlane', '/host/state']
  ])
  assert.equal(hostPathOf('/etc/streamlane/report-token/token', mounts), '/host/b/token')
  assert.equal(hostPathOf('/etc/streamlane/other', mounts), '/host/a/other')
  assert.equal(hostPathOf('/var/lib/streamlane', mounts), '/host/state')
  assert.equal(hostPathOf('/var/lib/streamlane-other', mounts), '/var/lib/streamlane-other')
  assert.equal(hostPathOf('info', mounts), 'info')
})

test("a container becomes its image's entrypoint with the pod's args, env resolved, taken ports replaced", async () => {
  const resolved = await resolveContainer(
    pod,
    {
      image: 'streamlane-word-count:0.1.0',
      args: ['/app/app.ts'],
      ports: [{ name: 'metrics', containerPort: 9464 }],
      env: [
        { name: 'STREAMLANE_GROUP_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'STREAMLANE_METRICS_PORT', value: '9464' },
        { name: 'STREAMLANE_STATE_DIR', value: '/var/lib/streamlane' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'wc-token', key: 'token' } } }
      ]
    },
    {
      images: {
        'streamlane-word-count': { command: 'node', args: ['cli.js', 'run'], defaultArgs: ['/app/default.ts'] }
      },
      source,
      mounts: new Map([
        ['/var/lib/streamlane', '/host/state'],
        ['/app', '/repo/app']
      ]),
      portFor: async (declared) => declared + 1
    }
  )
  assert.equal(resolved.command, 'node')
  assert.deepEqual(resolved.args, ['cli.js', 'run', '/repo/app/app.ts'])
  assert.deepEqual(resolved.env, {
    STREAMLANE_GROUP_INSTANCE_ID: 'wc-1',
    STREAMLANE_METRICS_PORT: '9465',
    STREAMLANE_STATE_DIR: '/host/state',
    TOKEN: 'apps/wc-token/token'
  })
  assert.deepEqual([...resolved.namedPorts], [['metrics', 9465]])
})

test('no args: the image default; an unknown image or an unsupported field is refused by name', async () => {
  const options = {
    images: { app: { command: 'node', args: ['run'], defaultArgs: ['/app/app.ts'] } },
    source,
    mounts: new Map<string, string>(),
    portFor: async (port: number) => port
  }
  assert.deepEqual((await resolveContainer(pod, { image: 'app' }, options)).args, ['run', '/app/app.ts'])
  await assert.rejects(resolveContainer(pod, { image: 'other:1' }, options), (error: Error) => {
    assert.ok(error instanceof PodSpecError)
    assert.match(error.message, /no command known for image other:1 \(known: app\)/)
    return true
  })
  await assert.rejects(
    resolveContainer(pod, { image: 'app', envFrom: [{ secretRef: { name: 's' } }] }, options),
    /envFrom/
  )
  const fieldRef = { image: 'app', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } }] }
  await assert.rejects(resolveContainer(pod, fieldRef, options), /fieldRef metadata.labels is not supported/)
})
