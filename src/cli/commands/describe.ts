import type { Command } from 'commander'
import { loadAppModule } from '../app-module.ts'

/** `streamlane describe <module>`: prints the app's topology (sub-topologies, sources, processors, sinks, stores). */
export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description("print an app module's topology")
    .argument('<module>', 'path to the app module (.ts or .js)')
    .action(async (modulePath: string) => {
      const { topology } = await loadAppModule(modulePath, { withConfig: false })
      process.stdout.write(`${topology.describe().toString()}\n`)
    })
}
