import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lint, template } from './support/render.ts'

/**
 * Wrong values fail at install: `helm template` (the rendering `helm install` runs first) exits non-zero with a
 * message that names the field. values.schema.json's refusals fail `helm lint` too; the chart's own checks (`fail` in
 * a template) do not, because helm lint only logs a template's `fail`.
 */
const refused: { name: string; values: object; names: string; byTemplate?: true }[] = [
  { name: 'a misspelt key', values: { autoscaling: { maxReplica: 3 } }, names: "'maxReplica' not allowed" },
  { name: 'a duration as text', values: { app: { shutdownTimeoutMs: '30s' } }, names: '/app/shutdownTimeoutMs' },
  {
    name: 'an applicationId Kafka cannot use',
    values: { app: { applicationId: 'my app' } },
    names: '/app/applicationId'
  },
  { name: 'brokers without ports', values: { kafka: { bootstrapServers: 'kafka' } }, names: '/kafka/bootstrapServers' },
  { name: 'a volume size', values: { persistence: { size: 'ten gigs' } }, names: '/persistence/size' },
  {
    name: 'an unknown guarantee',
    values: { app: { processingGuarantee: 'exactly_once' } },
    names: '/app/processingGuarantee'
  },
  { name: 'a trigger type', values: { autoscaling: { triggerType: 'kafka' } }, names: '/autoscaling/triggerType' },
  {
    name: 'a misspelt trigger key',
    values: { autoscaling: { metadata: { scaleInStabilisationSeconds: '60' } } },
    names: "'scaleInStabilisationSeconds' not allowed"
  },
  {
    name: 'a bound set twice, out of step with the ScaledObject',
    values: { autoscaling: { metadata: { maxReplicas: '3' } } },
    names: "'maxReplicas' not allowed"
  },
  {
    name: 'a grace period that cuts the final commit short',
    values: { app: { shutdownTimeoutMs: 60_000 }, terminationGracePeriodSeconds: 60 },
    names: 'terminationGracePeriodSeconds (60) must be above app.shutdownTimeoutMs',
    byTemplate: true
  },
  {
    name: 'bounds the wrong way round',
    values: { autoscaling: { minReplicas: 5, maxReplicas: 3 } },
    names: 'autoscaling.minReplicas (5) must not be above autoscaling.maxReplicas (3)',
    byTemplate: true
  },
  {
    name: 'no scaler to point the trigger at',
    values: { scaler: { enabled: false } },
    names: 'autoscaling.scalerAddress is required when scaler.enabled is false',
    byTemplate: true
  },
  {
    name: 'a scale-down limit the chart derives',
    values: { autoscaling: { metadata: { hpaScaleDownLimit: '2' } } },
    names: 'autoscaling.metadata.hpaScaleDownLimit is set by the chart',
    byTemplate: true
  },
  {
    name: 'a scale-down percentage the scaler cannot plan around',
    values: { autoscaling: { scaleDown: { type: 'Percent', value: 50 } } },
    names: 'autoscaling.scaleDown.value is 50 with type Percent: only 100',
    byTemplate: true
  },
  {
    name: 'a scale-down policy type the HPA does not have',
    values: { autoscaling: { scaleDown: { type: 'Replicas', value: 1 } } },
    names: '/autoscaling/scaleDown/type'
  }
]

for (const { name, values, names, byTemplate } of refused) {
  test(`refused: ${name}`, async () => {
    const rendered = await template(values)
    assert.notEqual(rendered.code, 0, `helm template accepted ${JSON.stringify(values)}`)
    assert.ok(rendered.stderr.includes(names), `expected "${names}" in:\n${rendered.stderr}`)
    if (!byTemplate) {
      const linted = await lint(values)
      assert.notEqual(linted.code, 0, `helm lint accepted ${JSON.stringify(values)}`)
    }
  })
}
