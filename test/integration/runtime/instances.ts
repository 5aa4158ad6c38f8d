import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { testBrokers } from '../../support/kafka.ts'

const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))

/** One app instance as its own OS process, run through `streamlane run` exactly as a user would. */
export class AppInstance {
  readonly name: string
  readonly child: ChildProcess
  log = ''
  readonly exited: Promise<number | null>

  constructor(name: string, module: string, env: Record<string, string>) {
    this.name = name
    this.child = spawn(process.execPath, [cli, 'run', module], {
      env: {
        ...process.env,
        KAFKA_BROKERS: env.KAFKA_BROKERS ?? testBrokers().join(','),
        STREAMLANE_LOG_LEVEL: 'info',
        ...env
      },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.log += chunk.toString()
    })
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null)
  }

  /** Whether this instance has logged that it runs active tasks (an empty first assignment does not count). */
  runningAssignment(): boolean {
    return /"active":\["[^\n]*"msg":"assignment running"/.test(this.log)
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }
}

/** Kills whatever is still running (after a failed assertion) so no process outlives the test. */
export async function killAll(instances: AppInstance[]): Promise<void> {
  for (const instance of instances) {
    if (instance.child.exitCode === null && instance.child.signalCode === null) instance.signal('SIGKILL')
  }
  await Promise.all(instances.map((i) => i.exited))
}
