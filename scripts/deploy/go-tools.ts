/**
 * Tools the deploy tests run, built from the Go module in deploy/tools (go.mod + go.sum pin every version) into
 * .tools/bin, and rebuilt only when their inputs change: the real `helm`, and `kubestrict` (deploy/tools/kubestrict),
 * which decodes Kubernetes objects into k8s.io/api's types refusing unknown fields.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../kafka/broker.ts'

const toolsModule = join(repoRoot, 'deploy/tools')
const binDir = join(repoRoot, '.tools/bin')

export class GoToolError extends Error {
  readonly code = 'STREAMLANE_GO_TOOL'
}

export interface ToolResult {
  code: number
  stdout: string
  stderr: string
}

interface GoTool {
  /** What `go build` builds, from deploy/tools. */
  target: string
  /** Files under deploy/tools whose change rebuilds the tool (go.mod and go.sum always do). */
  sources: string[]
  ldflags: () => string
}

function pinnedVersion(module: string): string {
  const match = new RegExp(`^\\s*${module.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(
    readFileSync(join(toolsModule, 'go.mod'), 'utf8')
  )
  if (!match) throw new GoToolError(`deploy/tools/go.mod does not require ${module}`)
  return match[1]!
}

const tools = {
  // Stamped with its version like helm's own release builds (`helm version`).
  helm: {
    target: 'helm.sh/helm/v4/cmd/helm',
    sources: [],
    ldflags: () => `-s -w -X helm.sh/helm/v4/internal/version.version=${pinnedVersion('helm.sh/helm/v4')}`
  },
  kubestrict: { target: './kubestrict', sources: ['kubestrict/main.go'], ldflags: () => '-s -w' }
} satisfies Record<string, GoTool>

export type ToolName = keyof typeof tools

/** Runs a command and collects its output; never throws for a non-zero exit. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
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
    child.stdin.end(options.input ?? '')
  })
}

function stampOf(tool: GoTool): string {
  const hash = createHash('sha256')
  for (const file of ['go.mod', 'go.sum', ...tool.sources]) hash.update(readFileSync(join(toolsModule, file)))
  return hash.digest('hex')
}

/**
 * Returns the path of the tool built from deploy/tools, building it first when it is missing or stale (helm takes a
 * few minutes on 2 cores the first time; concurrent callers may build twice, and the last rename wins).
 */
export async function ensureGoTool(name: ToolName): Promise<string> {
  const tool: GoTool = tools[name]
  const binary = join(binDir, name)
  const stampFile = `${binary}.stamp`
  const stamp = stampOf(tool)
  if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return binary
  mkdirSync(binDir, { recursive: true })
  const temporary = `${binary}.${process.pid}.tmp`
  let build: ToolResult
  try {
    // GOTOOLCHAIN=local: the installed Go builds it and none is downloaded; -mod=readonly: go.sum must cover it all.
    build = await run('go', ['build', '-trimpath', `-ldflags=${tool.ldflags()}`, '-o', temporary, tool.target], {
      cwd: toolsModule,
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' }
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GoToolError(
        `go is not installed: the deploy tests build ${name} from deploy/tools (its go.mod pins the versions); ` +
          'install Go, at least the version on the go line of deploy/tools/go.mod'
      )
    }
    throw error
  }
  if (build.code !== 0) {
    rmSync(temporary, { force: true })
    throw new GoToolError(`building ${name} from deploy/tools failed:\n${build.stderr}`)
  }
  renameSync(temporary, binary)
  writeFileSync(stampFile, stamp)
  return binary
}

/** Builds every tool the deploy tests use (npm test does this once, before the tests run in parallel). */
export async function ensureGoTools(): Promise<string[]> {
  const built: string[] = []
  for (const name of Object.keys(tools) as ToolName[]) built.push(await ensureGoTool(name))
  return built
}
