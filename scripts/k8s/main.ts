/**
 * `npm run k8s [-- build | up [--no-keda]]` (docs/kubernetes-local.md):
 * - build: builds (or finds cached in .k8s/bin) the control plane's and KEDA's binaries.
 * - up (the default): starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KEDA on 127.0.0.1
 *   in .k8s/cluster, prints the kubeconfig's path, and stops them all on Ctrl-C (SIGINT) or SIGTERM.
 * Run a cold build under the machine's heavy-work lock: flock /tmp/streamlane-heavy.lock npm run k8s -- build
 */
import { join } from 'node:path'
import { repoRoot } from '../kafka/broker.ts'
import { ensureBundle } from './binaries.ts'
import { startCluster } from './cluster.ts'

const [command = 'up', ...flags] = process.argv.slice(2)
const log = (line: string) => console.error(`streamlane: ${line}`)

try {
  if (command === 'build') {
    for (const bundle of ['kubernetes', 'keda'] as const) {
      const paths = await ensureBundle(bundle, log)
      console.log(Object.values(paths).join('\n'))
    }
  } else if (command === 'up') {
    const cluster = await startCluster({ dir: join(repoRoot, '.k8s/cluster'), keda: !flags.includes('--no-keda'), log })
    console.log(`KUBECONFIG=${cluster.kubeconfig}`)
    log(`cluster running at ${cluster.server} (logs in ${cluster.dir}); Ctrl-C stops it`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await cluster.stop()
    log('cluster stopped')
  } else {
    throw new Error(`unknown command ${command}: use build or up [--no-keda]`)
  }
} catch (error) {
  log((error as Error).message)
  process.exit(1)
}
