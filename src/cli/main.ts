import { Command } from 'commander'

/**
 * The `streamlane` command line. Each command lives in its own file under `commands/` and registers itself on the
 * program it is given.
 */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('streamlane').description('Stateful stream processing on Apache Kafka').version('0.1.0')
  program.showHelpAfterError()
  await program.parseAsync(argv)
}
