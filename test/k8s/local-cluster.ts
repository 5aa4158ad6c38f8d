/**
 * The e2e tests' cluster: the local control plane with KEDA (scripts/k8s) and the node agent (test/support/k8s)
 * running the chart's two images as local processes of their entrypoints (deploy/Dockerfile): the app image runs
 * `streamlane run <module>`, the scaler image `streamlane scaler`. Charts are installed with the real helm.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chartDir, helm } from '../../scripts/deploy/helm.ts'
import { type Cluster, startCluster } from '../../scripts/k8s/cluster.ts'
import { repoRoot } from '../../scripts/kafka/broker.ts'
import { type NodeAgent, startNodeAgent } from '../support/k8s/node-agent.ts'

const cli = join(repoRoot, 'bin/streamlane.js')

export interface LocalCluster {
  cluster: Cluster
  agent: NodeAgent
  dir: string
  /** `helm install` of the Streamlane chart with these values; rejects with helm's output when it fails. */
  installChart(release: string, namespace: string, values: unknown): Promise<void>
  stop(): Promise<void>
}

export async function startLocalCluster(log: (line: string) => void = console.log): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-k8s-'))
  const started = Date.now()
  const cluster = await startCluster({ dir: join(dir, 'cluster'), log })
  log(`control plane and KEDA ready in ${((Date.now() - started) / 1000).toFixed(1)} s (logs in ${cluster.dir})`)
  let agent: NodeAgent
  try {
    agent = await startNodeAgent({
      client: cluster.client,
      dir: join(dir, 'node'),
      log: (line) => log(`node agent: ${line}`),
      images: {
        'streamlane-word-count': { command: process.execPath, args: [cli, 'run'], defaultArgs: ['/app/app.ts'] },
        'streamlane-scaler': { command: process.execPath, args: [cli, 'scaler'] }
      }
    })
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return {
    cluster,
    agent,
    dir,
    async installChart(release, namespace, values) {
      const valuesFile = join(dir, `${release}-values.json`)
      writeFileSync(valuesFile, JSON.stringify(values, null, 2))
      const args = ['install', release, chartDir, '--namespace', namespace, '--create-namespace']
      const result = await helm([...args, '--kubeconfig', cluster.kubeconfig, '-f', valuesFile])
      if (result.code !== 0) throw new Error(`helm install ${release} failed:\n${result.stderr}${result.stdout}`)
    },
    async stop() {
      try {
        await agent.stop()
      } finally {
        await cluster.stop()
        if (!process.env.STREAMLANE_K8S_KEEP) rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
