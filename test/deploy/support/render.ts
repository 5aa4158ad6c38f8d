/** Renders the chart with the real helm (scripts/deploy/helm.ts) and parses what it prints. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import type { ToolResult } from '../../../scripts/deploy/go-tools.ts'
import { chartDir, helm } from '../../../scripts/deploy/helm.ts'
import type { KubernetesObject } from './kubernetes-schemas.ts'

export const release = 'orders'
export const namespace = 'shop'

async function withValuesFile<T>(values: object, use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-chart-'))
  try {
    const file = join(dir, 'values.json')
    writeFileSync(file, JSON.stringify(values)) // JSON is YAML
    return await use(file)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `helm template` with `values` as a values file. */
export function template(values: object = {}): Promise<ToolResult> {
  return withValuesFile(values, (file) =>
    helm(['template', release, chartDir, '--namespace', namespace, '--values', file])
  )
}

/** `helm lint --strict` with `values` as a values file. */
export function lint(values: object = {}): Promise<ToolResult> {
  return withValuesFile(values, (file) => helm(['lint', chartDir, '--strict', '--values', file]))
}

export function parseObjects(yamlText: string): KubernetesObject[] {
  return parseAllDocuments(yamlText)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`helm printed invalid YAML: ${document.errors[0]!.message}`)
      return document.toJS() as KubernetesObject | null
    })
    .filter((object): object is KubernetesObject => object !== null)
}

/** Renders and parses; a refusal is an error carrying helm's message. */
export async function render(values: object = {}): Promise<Rendered> {
  const result = await template(values)
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`)
  return new Rendered(result.stdout, parseObjects(result.stdout))
}

export class Rendered {
  /** What helm printed. */
  readonly yaml: string
  readonly objects: KubernetesObject[]

  constructor(yaml: string, objects: KubernetesObject[]) {
    this.yaml = yaml
    this.objects = objects
  }

  /** The one object of this kind (and name suffix); throws if there is none or more than one. */
  one(kind: string, nameSuffix = ''): KubernetesObject {
    const found = this.objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix))
    if (found.length !== 1) throw new Error(`expected one ${kind}*${nameSuffix}, found ${found.length}`)
    return found[0]!
  }

  kinds(): string[] {
    return this.objects.map((o) => o.kind).sort()
  }
}
