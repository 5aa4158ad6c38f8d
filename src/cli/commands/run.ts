import type { Command } from 'commander'
import { ShareGroupApp, StreamlaneApp } from '../../runtime/index.ts'
import { loadAppModule } from '../app-module.ts'

/**
 * `streamlane run <module>`: runs an app until SIGTERM / SIGINT, then closes it gracefully (commit, then leave the
 * group unless the member is static) within the configured shutdown timeout. Exits 1 if processing failed (the
 * error is then the last line on stderr) or closing failed.
 */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the app defined in a module (default export: defineApp({ topology, config }))')
    .argument('<module>', 'path to the app module (.ts or .js)')
    .option('-c, --config <file>', 'JSON file with configuration options (overrides the module, overridden by env)')
    .action(async (modulePath: string, options: { config?: string }) => {
      const { definition, topology, config } = await loadAppModule(modulePath, {
        configFile: options.config,
        withConfig: true
      })
      // `shareGroup` in the config: the app consumes through a share group (docs/share-groups.md).
      const app = config!.shareGroup
        ? new ShareGroupApp(topology, config!, { errorHandlers: definition.errorHandlers })
        : new StreamlaneApp(topology, config!, { errorHandlers: definition.errorHandlers })
      let closing: Promise<void> | undefined
      let closeFailed = false
      // A close that fails is reported and makes the exit code 1, never an unhandled rejection.
      const shutdown = () => {
        closing ??= app.close().catch((error: unknown) => {
          closeFailed = true
          process.stderr.write(
            `streamlane: closing failed: ${error instanceof Error ? error.message : String(error)}\n`
          )
        })
        return closing
      }
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void shutdown().then(() => process.exit(app.error || closeFailed ? 1 : 0)))
      }
      // The error was logged when processing stopped; after closing, it is also the one line the process ends with.
      app.onError(
        (error) =>
          void shutdown().then(() => {
            const code = (error as { code?: string }).code
            process.stderr.write(`streamlane: ${error.message}${code ? ` [${code}]` : ''}\n`)
            process.exit(1)
          })
      )
      await app.start()
    })
}
