/**
 * `node scripts/with-broker.ts <command> [args...]`: starts a throw-away Kafka broker on free ports, runs one command
 * with `KAFKA_BROKERS` pointing at it, stops the broker and exits with the command's exit code. For running a single
 * integration test file while developing (`npm test` starts its own broker for the whole suite).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrokerSetupError, repoRoot, startBroker } from './kafka/broker.ts'

const [command, ...args] = process.argv.slice(2)
if (!command) {
  console.error('usage: node scripts/with-broker.ts <command> [args...]')
  process.exit(2)
}

const dir = mkdtempSync(join(tmpdir(), 'streamlane-broker-'))
let exitCode = 1
try {
  const broker = await startBroker({ dir })
  try {
    exitCode = await new Promise<number>((resolve) => {
      const child = spawn(command, args, {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { STREAMLANE_LOG_LEVEL: 'warn', ...process.env, KAFKA_BROKERS: broker.bootstrap }
      })
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    })
  } finally {
    await broker.stop()
  }
} catch (error) {
  console.error(`streamlane: ${error instanceof BrokerSetupError ? error.message : String(error)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(exitCode)
