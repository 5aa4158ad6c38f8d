/**
 * `npm test`: everything CI checks, in order: type check, lint and format, unit tests, then integration tests
 * against a real Kafka broker (started here on free ports, or the cluster named by KAFKA_BROKERS), then the container
 * test (podman) against the same broker.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
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

/** Totals over every test run, printed as the last line so a reader (or CI) sees the whole count at once. */
const totals = { passed: 0, failed: 0 }
const reportDir = mkdtempSync(join(tmpdir(), 'streamlane-test-reports-'))

/**
 * Runs node's test runner on `files`: the spec reporter on the terminal and a TAP copy in a file, whose closing
 * `# pass N` / `# fail N` lines are added to the totals. Resolves whether the run failed.
 */
async function runTests(name: string, files: string[], options: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  const tapFile = join(reportDir, `${name}.tap`)
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout']
  reporters.push('--test-reporter=tap', `--test-reporter-destination=${tapFile}`)
  const exitCode = await run(
    process.execPath,
    ['--test', ...options, '--test-timeout=600000', ...reporters, ...files],
    env
  )
  const tap = readTapTotals(tapFile)
  totals.passed += tap.passed
  totals.failed += tap.failed
  return exitCode !== 0
}

function readTapTotals(file: string): { passed: number; failed: number } {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { passed: 0, failed: 0 }
  }
  const count = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
  return { passed: count('pass'), failed: count('fail') + count('cancelled') }
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
  failed ||= (await run('depcruise', ['src'])) !== 0

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
  const testFailed = await runTests(
    'suite',
    [
      'test/unit/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/deploy/**/*.test.ts',
      // The differential suite against Kafka Streams' own test driver (builds its Java side once, with Maven).
      'test/conformance/**/*.test.ts',
      'examples/**/*.test.ts'
    ],
    [`--test-concurrency=${concurrency}`],
    // In-process apps log warnings only, so test output stays readable; child processes set their own level.
    { STREAMLANE_LOG_LEVEL: 'warn', ...process.env, KAFKA_BROKERS: brokers }
  )
  failed ||= testFailed

  // After the others, alone: its containers are heavy for two cores, and it builds images (docs/container-image.md).
  step('container test (podman: the images built from deploy/Dockerfile, word count in three containers)')
  const containerFailed = await runTests('container', ['test/container/**/*.test.ts'], [], {
    ...process.env,
    KAFKA_BROKERS: brokers
  })
  failed ||= containerFailed

  // The chaos test restarts its broker: it runs alone, on a broker of its own, once the suite's broker is gone.
  await stopBroker()
  step('chaos test (kills, freezes, a broker restart; its own broker)')
  failed ||= await runTests('chaos', ['test/chaos/**/*.test.ts'], [], { STREAMLANE_LOG_LEVEL: 'warn', ...process.env })
} catch (error) {
  console.error(`streamlane: ${error instanceof BrokerSetupError ? error.message : String(error)}`)
  failed = true
} finally {
  await stopBroker()
  rmSync(reportDir, { recursive: true, force: true })
}
// The one closing line over every run above; a failed check outside the tests (type check, lint) counts as one failure.
const failures = totals.failed > 0 || !failed ? totals.failed : 1
console.log(`\ntests: ${totals.passed} passed, ${failures} failed`)
process.exit(failed ? 1 : 0)
