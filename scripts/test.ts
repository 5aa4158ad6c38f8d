/**
 * `npm test`: everything CI checks, in order: type check, lint and format, unit tests, then integration tests
 * against a real Kafka broker (started here on free ports, or the cluster named by KAFKA_BROKERS), then the container
 * test (podman) against the same broker.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureGoTools } from './deploy/go-tools.ts'
import { type Broker, BrokerSetupError, repoRoot, startBroker } from './kafka/broker.ts'

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env })
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

function step(name: string): void {
  console.log(`\n== ${name}`)
}

const concurrency = process.env.STREAMLANE_TEST_CONCURRENCY ?? '3'
let broker: Broker | undefined
let brokerDir: string | undefined
let failed = false

async function stopBroker(): Promise<void> {
  await broker?.stop()
  broker = undefined
  if (brokerDir) rmSync(brokerDir, { recursive: true, force: true })
  brokerDir = undefined
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopBroker().finally(() => process.exit(130)))
}

try {
  step('type check')
  failed ||= (await run('tsc', ['-p', 'tsconfig.json', '--noEmit'])) !== 0
  step('lint and format')
  failed ||= (await run('biome', ['ci', '.'])) !== 0
  step('layer map (dependency-cruiser: .dependency-cruiser.mjs)')
  failed ||= (await run('depcruise', ['src', '--ignore-known'])) !== 0

  // Once here, so the deploy tests running in parallel do not each build it (minutes on a fresh machine).
  step('helm and kubestrict for the deploy tests (built from deploy/tools once, then reused from .tools/bin)')
  try {
    console.log((await ensureGoTools()).join('\n'))
  } catch (error) {
    console.error(`streamlane: ${(error as Error).message}`)
    failed = true
  }

  let brokers = process.env.KAFKA_BROKERS
  if (!brokers) {
    step('starting a Kafka broker for the tests')
    brokerDir = mkdtempSync(join(tmpdir(), 'streamlane-test-broker-'))
    broker = await startBroker({ dir: brokerDir })
    brokers = broker.bootstrap
    console.log(`KAFKA_BROKERS=${brokers}`)
  }

  step('tests (unit and integration)')
  const testFailed =
    (await run(
      process.execPath,
      [
        '--test',
        `--test-concurrency=${concurrency}`,
        '--test-timeout=600000',
        '--test-reporter=spec',
        'test/unit/**/*.test.ts',
        'test/integration/**/*.test.ts',
        'test/deploy/**/*.test.ts',
        // The differential suite against Kafka Streams' own test driver (builds its Java side once, with Maven).
        'test/conformance/**/*.test.ts',
        'examples/**/*.test.ts'
      ],
      // In-process apps log warnings only, so test output stays readable; child processes set their own level.
      { STREAMLANE_LOG_LEVEL: 'warn', ...process.env, KAFKA_BROKERS: brokers }
    )) !== 0
  failed ||= testFailed

  // After the others, alone: its containers are heavy for two cores, and it builds images (docs/container-image.md).
  step('container test (podman: the images built from deploy/Dockerfile, word count in three containers)')
  const containerFailed =
    (await run(
      process.execPath,
      ['--test', '--test-timeout=600000', '--test-reporter=spec', 'test/container/**/*.test.ts'],
      { ...process.env, KAFKA_BROKERS: brokers }
    )) !== 0
  failed ||= containerFailed

  // The chaos test restarts its broker: it runs alone, on a broker of its own, once the suite's broker is gone.
  await stopBroker()
  step('chaos test (kills, freezes, a broker restart; its own broker)')
  failed ||=
    (await run(
      process.execPath,
      ['--test', '--test-timeout=600000', '--test-reporter=spec', 'test/chaos/**/*.test.ts'],
      {
        STREAMLANE_LOG_LEVEL: 'warn',
        ...process.env
      }
    )) !== 0
} catch (error) {
  console.error(`streamlane: ${error instanceof BrokerSetupError ? error.message : String(error)}`)
  failed = true
} finally {
  await stopBroker()
}
process.exit(failed ? 1 : 0)
