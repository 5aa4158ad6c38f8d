/**
 * The real `helm`, built from the Go module pinned in deploy/tools (go.mod + go.sum) into .tools/bin and reused while
 * those files are unchanged. The deploy tests and the manifest renderer lint and render the chart with it, so what
 * they check is what `helm install` would do.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../kafka/broker.ts'

export const chartDir = join(repoRoot, 'deploy/helm/streamlane')
const toolsModule = join(repoRoot, 'deploy/tools')
const binDir = join(repoRoot, '.tools/bin')
export const helmBinary = join(binDir, 'helm')
/** Which go.mod + go.sum the binary was built from: a changed pin rebuilds it. */
const stampFile = join(binDir, 'helm.stamp')

export class HelmToolError extends Error {
  readonly code = 'STREAMLANE_HELM_TOOL'
}

export interface HelmResult {
  code: number
  stdout: string
  stderr: string
}

function pinStamp(): string {
  const hash = createHash('sha256')
  for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(toolsModule, file)))
  return hash.digest('hex')
}

function helmVersion(): string {
  const match = /^\s*helm\.sh\/helm\/v4 (v\S+)/m.exec(readFileSync(join(toolsModule, 'go.mod'), 'utf8'))
  if (!match) throw new HelmToolError(`deploy/tools/go.mod does not require helm.sh/helm/v4`)
  return match[1]!
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<HelmResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

/**
 * Returns the path of a helm binary built from deploy/tools, building it first when it is missing or stale (a few
 * minutes on 2 cores; concurrent callers may build twice, and the last rename wins with an identical binary).
 */
export async function ensureHelm(): Promise<string> {
  const stamp = pinStamp()
  if (existsSync(helmBinary) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return helmBinary
  mkdirSync(binDir, { recursive: true })
  const version = helmVersion()
  const temporary = `${helmBinary}.${process.pid}.tmp`
  let build: HelmResult
  try {
    // GOTOOLCHAIN=local: the installed Go builds it, none is downloaded. The version is stamped like helm's releases.
    build = await run(
      'go',
      [
        'build',
        '-trimpath',
        `-ldflags=-s -w -X helm.sh/helm/v4/internal/version.version=${version}`,
        '-o',
        temporary,
        'helm.sh/helm/v4/cmd/helm'
      ],
      { cwd: toolsModule, env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' } }
    )
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HelmToolError(
        'go is not installed: the deploy tests build helm from deploy/tools (its go.mod pins helm.sh/helm/v4); ' +
          'install Go, at least the version on the go line of deploy/tools/go.mod'
      )
    }
    throw error
  }
  if (build.code !== 0) {
    rmSync(temporary, { force: true })
    throw new HelmToolError(`building helm ${version} from deploy/tools failed:\n${build.stderr}`)
  }
  renameSync(temporary, helmBinary)
  writeFileSync(stampFile, stamp)
  return helmBinary
}

/** Runs helm with the given arguments; never throws for a non-zero exit (tests look at refusals). */
export async function helm(args: string[]): Promise<HelmResult> {
  return run(await ensureHelm(), args)
}
