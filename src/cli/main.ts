import { Command } from 'commander'
import { registerAutoscale } from './commands/autoscale.ts'
import { registerDescribe } from './commands/describe.ts'
import { registerQuery } from './commands/query.ts'
import { registerReset } from './commands/reset.ts'
import { registerRun } from './commands/run.ts'
import { registerScaler } from './commands/scaler.ts'
import { registerSimulate } from './commands/simulate.ts'
import { registerTopics } from './commands/topics.ts'

/**
 * The `streamlane` command line. Each command lives in its own file under `commands/` and registers itself on the
 * program it is given.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('streamlane').description('Stateful stream processing on Apache Kafka').version('0.1.0')
  program.showHelpAfterError()
  registerRun(program)
  registerDescribe(program)
  registerTopics(program)
  registerReset(program)
  registerQuery(program)
  registerScaler(program)
  registerAutoscale(program)
  registerSimulate(program)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    // A bad module, option or topic is the user's to fix: one clear line, not a stack trace.
    const code = (error as { code?: string }).code
    process.stderr.write(
      `streamlane: ${error instanceof Error ? error.message : String(error)}${code ? ` [${code}]` : ''}\n`
    )
    process.exitCode = 1
  }
}
