/**
 * Offline schema validation of rendered objects, two ways:
 * - the Kubernetes OpenAPI schemas (kubernetes-models), KEDA's and the Prometheus Operator's CRD schemas
 *   (@kubernetes-models/keda, @kubernetes-models/prometheus-operator), compiled to
 *   validators that throw with the failing path (types, required fields, enums); a kind the chart renders but the
 *   table below lacks is an error, so a new template cannot go unchecked;
 * - `kubestrict` (deploy/tools/kubestrict): built-in kinds decoded into k8s.io/api's Go types with unknown fields
 *   refused, which the schemas above allow (they have no additionalProperties: false).
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1'
import { ensureGoTool, run } from '../../../scripts/deploy/go-tools.ts'

export interface KubernetesObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  data?: Record<string, string>
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects are checked by the schemas, then read by the tests
  spec?: any
}

type Validated = { validate(): void }
const models: Record<string, new (data: never) => Validated> = {
  'apps/v1 StatefulSet': StatefulSet,
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'v1 ConfigMap': ConfigMap,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1 PrometheusRule': PrometheusRule
}

/** Throws an error naming the object and the schema path that failed. */
export function validateObject(object: KubernetesObject): void {
  const key = `${object.apiVersion} ${object.kind}`
  const Model = models[key]
  if (!Model) throw new Error(`no schema for ${key} (${object.metadata?.name}): add its model to kubernetes-schemas.ts`)
  const { apiVersion: _apiVersion, kind: _kind, ...data } = object
  try {
    new Model(data as never).validate()
  } catch (error) {
    throw new Error(`${key} ${object.metadata.name} does not match its schema: ${(error as Error).message}`)
  }
}

export interface StrictReport {
  ok: string[]
  skipped: string[]
  errors: string[]
}

/** Decodes every document of `yamlText` strictly; `<apiVersion> <kind> <name>` per line of each list. */
export async function decodeStrictly(yamlText: string): Promise<StrictReport> {
  const result = await run(await ensureGoTool('kubestrict'), [], { input: yamlText })
  const report: StrictReport = { ok: [], skipped: [], errors: [] }
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [word, ...rest] = line.split(' ')
    if (word === 'ok') report.ok.push(rest.join(' '))
    else if (word === 'skipped') report.skipped.push(rest.join(' '))
    else report.errors.push(line)
  }
  if (result.code !== 0 && report.errors.length === 0)
    report.errors.push(`kubestrict exited ${result.code}: ${result.stderr}`)
  return report
}
