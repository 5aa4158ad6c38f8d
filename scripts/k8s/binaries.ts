/**
 * The local cluster's binaries, built from the Go modules in scripts/k8s/go (their go.mod and go.sum pin every
 * version) into .k8s/bin, and rebuilt only when those files change: kube-apiserver, kube-controller-manager and
 * kube-scheduler from k8s.io/kubernetes, KEDA's operator and metrics adapter from github.com/kedacore/keda/v2.
 * A cold build takes many minutes on 2 cores (docs/kubernetes-local.md has the numbers); the caller holds the
 * machine's heavy-work lock (`flock /tmp/streamlane-heavy.lock ...`) around it, not this code: a test already
 * running under the lock would wait on itself.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../deploy/go-tools.ts'
import { repoRoot } from '../kafka/broker.ts'

export const binDir = join(repoRoot, '.k8s/bin')
const modulesDir = join(repoRoot, 'scripts/k8s/go')

export class K8sBuildError extends Error {
  readonly code = 'STREAMLANE_K8S_BUILD'
}

interface Bundle {
  /** The folder under scripts/k8s/go holding the module. */
  module: string
  /** Binary name -> Go package. */
  binaries: Record<string, string>
  ldflags: () => string
}

function requiredVersion(module: string, path: string): string {
  const goMod = readFileSync(join(modulesDir, module, 'go.mod'), 'utf8')
  const match = new RegExp(`^\\s*(?:require )?${path.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(goMod)
  if (!match) throw new K8sBuildError(`scripts/k8s/go/${module}/go.mod does not require ${path}`)
  return match[1]!
}

/** Stamps the version like the projects' own release builds, so `--version` and the API's /version tell it. */
function kubernetesLdflags(): string {
  const version = requiredVersion('kubernetes', 'k8s.io/kubernetes')
  const [major, minor] = version.slice(1).split('.')
  const flags = ['-s', '-w']
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`)
  }
  return flags.join(' ')
}

const bundles = {
  kubernetes: {
    module: 'kubernetes',
    binaries: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler'
    },
    ldflags: kubernetesLdflags
  },
  keda: {
    module: 'keda',
    binaries: {
      'keda-operator': 'github.com/kedacore/keda/v2/cmd/operator',
      'keda-adapter': 'github.com/kedacore/keda/v2/cmd/adapter'
    },
    ldflags: () =>
      `-s -w -X github.com/kedacore/keda/v2/version.Version=${requiredVersion('keda', 'github.com/kedacore/keda/v2')}`
  }
} satisfies Record<string, Bundle>

export type BundleName = keyof typeof bundles

function stampOf(bundle: Bundle): string {
  const hash = createHash('sha256')
  for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(modulesDir, bundle.module, file)))
  hash.update(bundle.ldflags())
  return hash.digest('hex')
}

/** The folder of the module's source (downloaded by the go command), e.g. for KEDA's CRDs. */
export async function moduleDir(bundleName: BundleName, path: string): Promise<string> {
  const result = await run('go', ['list', '-m', '-f', '{{.Dir}}', path], {
    cwd: join(modulesDir, bundles[bundleName].module),
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }
  })
  if (result.code !== 0) throw new K8sBuildError(`go list -m ${path} failed:\n${result.stderr}`)
  return result.stdout.trim()
}

/**
 * Returns the paths of the bundle's binaries, building them first when missing or built from other pins.
 * `log` hears when a build starts and how long it took.
 */
export async function ensureBundle(
  name: BundleName,
  log: (line: string) => void = () => {}
): Promise<Record<string, string>> {
  const bundle: Bundle = bundles[name]
  const paths = Object.fromEntries(Object.keys(bundle.binaries).map((binary) => [binary, join(binDir, binary)]))
  const stampFile = join(binDir, `${name}.stamp`)
  const stamp = stampOf(bundle)
  const built = Object.values(paths).every((path) => existsSync(path))
  if (built && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return paths
  const temporary = join(binDir, `.${name}.${process.pid}.tmp`)
  mkdirSync(temporary, { recursive: true })
  log(`building ${Object.keys(bundle.binaries).join(', ')} from scripts/k8s/go/${bundle.module} (minutes when cold)`)
  const started = Date.now()
  try {
    const args = ['build', '-trimpath', `-ldflags=${bundle.ldflags()}`, '-o', `${temporary}/`]
    const result = await run('go', [...args, ...Object.values(bundle.binaries)], {
      cwd: join(modulesDir, bundle.module),
      // GOTOOLCHAIN=local: the installed Go builds it; -mod=readonly: go.sum must cover it all.
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }
    })
    if (result.code !== 0) throw new K8sBuildError(`building scripts/k8s/go/${bundle.module} failed:\n${result.stderr}`)
    for (const [binary, pkg] of Object.entries(bundle.binaries)) {
      renameSync(join(temporary, pkg.split('/').at(-1)!), paths[binary]!)
    }
    writeFileSync(stampFile, stamp)
    log(`built ${name} in ${Math.round((Date.now() - started) / 1000)} s`)
    return paths
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new K8sBuildError('go is not installed: the local cluster builds its binaries from scripts/k8s/go')
    }
    throw error
  } finally {
    rmSync(temporary, { recursive: true, force: true })
  }
}
