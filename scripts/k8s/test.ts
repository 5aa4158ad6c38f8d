/**
 * `npm run test:k8s`: the Kubernetes end-to-end tests (test/k8s, docs/kubernetes-local.md). Builds what they need
 * first (the control plane's and KEDA's binaries into .k8s/bin, helm into .tools/bin; each only when missing or
 * stale), then runs them against a throw-away broker. Not part of `npm test`: a cold build takes longer than CI's
 * whole suite (docs/kubernetes-local.md has the numbers). Run it under the machine's heavy-work lock:
 *   flock /tmp/streamlane-heavy.lock npm run test:k8s
 */
import { spawn } from 'node:child_process'
import { ensureGoTool } from '../deploy/go-tools.ts'
import { repoRoot } from '../kafka/broker.ts'
import { ensureBundle } from './binaries.ts'

const log = (line: string) => console.log(`streamlane: ${line}`)

try {
  await ensureBundle('kubernetes', log)
  await ensureBundle('keda', log)
  await ensureGoTool('helm')
} catch (error) {
  console.error(`streamlane: ${(error as Error).message}`)
  process.exit(1)
}

const files = process.argv.length > 2 ? process.argv.slice(2) : ['test/k8s/**/*.test.ts']
const child = spawn(
  process.execPath,
  ['scripts/with-broker.ts', process.execPath, '--test', '--test-timeout=900000', '--test-reporter=spec', ...files],
  { cwd: repoRoot, stdio: 'inherit' }
)
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
