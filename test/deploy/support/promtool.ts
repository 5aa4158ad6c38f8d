/**
 * Prometheus' `promtool`, from Debian's `prometheus` package (.ci/run installs it): the deploy tests check the alert
 * rules with it.
 */
import { run, type ToolResult } from '../../../scripts/deploy/go-tools.ts'

/** Runs promtool; a missing promtool is an error that says how to get it. */
export async function promtool(args: string[], cwd?: string): Promise<ToolResult> {
  try {
    return await run('promtool', args, cwd === undefined ? {} : { cwd })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        "promtool is not installed: the alert rule tests run it (apt-get install prometheus, Debian's package, " +
          'provides /usr/bin/promtool; .ci/run installs it)'
      )
    }
    throw error
  }
}
