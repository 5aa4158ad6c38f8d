/**
 * The real `helm` (built from deploy/tools by go-tools.ts): the deploy tests and the manifest renderer lint and render
 * the chart with it, so what they check is what `helm install` would do.
 */
import { join } from 'node:path'
import { repoRoot } from '../kafka/broker.ts'
import { ensureGoTool, run, type ToolResult } from './go-tools.ts'

export const chartDir = join(repoRoot, 'deploy/helm/streamlane')

/** Runs helm with the given arguments; never throws for a non-zero exit (tests look at refusals). */
export async function helm(args: string[]): Promise<ToolResult> {
  return run(await ensureGoTool('helm'), args)
}
