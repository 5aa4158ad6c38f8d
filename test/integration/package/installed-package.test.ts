/**
 * Streamlane as a user gets it: `npm pack` (which builds dist/ first), the tarball installed into a fresh project,
 * an app module there that imports 'streamlane', and the installed `streamlane` command run from that project
 * against the test broker: describe, topics create, run (records in, counts out, SIGTERM commits and exits 0),
 * reset (refused while running, then --dry-run and for real) and scaler.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { createAdmin, type KafkaAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { committedInput, readTopic, topicEnd } from '../runtime/support.ts'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'streamlane-package-'))
const project = join(work, 'app')
const stateDir = join(work, 'state')
const appId = uniqueName('pkg-words')
const input = uniqueName('pkg-lines')
const output = uniqueName('pkg-word-counts')
const deadLetters = uniqueName('pkg-lines-dlq')
const internalTopics = [`${appId}-counts-changelog`, `${appId}-counts-repartition`]
// npm and the installed bin's `#!/usr/bin/env node` must find this Node (24), not the machine's.
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`
const env = {
  ...process.env,
  PATH,
  KAFKA_BROKERS: testBrokers().join(','),
  STREAMLANE_APPLICATION_ID: appId,
  STREAMLANE_STATE_DIR: stateDir,
  STREAMLANE_COMMIT_INTERVAL_MS: '500',
  STREAMLANE_LOG_LEVEL: 'warn',
  LINES_TOPIC: input,
  WORD_COUNTS_TOPIC: output,
  DEAD_LETTER_TOPIC: deadLetters
}
let admin: KafkaAdmin
const running: ChildProcess[] = []

interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to its end (bounded), collecting its output. */
async function exec(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Finished> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code] = await once(child, 'exit')
  return { code: code as number | null, stdout, stderr }
}

/** The installed command, as `npx`-free scripts and the container run it: `node_modules/.bin/streamlane`. */
function streamlane(...args: string[]): Promise<Finished> {
  return exec(join(project, 'node_modules/.bin/streamlane'), args, project)
}

function startStreamlane(...args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number> } {
  const child = spawn(join(project, 'node_modules/.bin/streamlane'), args, {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  running.push(child)
  let text = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = once(child, 'exit').then(([code]) => code as number)
  return { child, output: () => text, exited }
}

function ok(result: Finished, what: string): void {
  assert.equal(result.code, 0, `${what} failed:\n${result.stdout}\n${result.stderr}`)
}

before(async () => {
  admin = createAdmin({ brokers: testBrokers() })
  const packed = await exec('npm', ['pack', '--pack-destination', work, '--json'], repoRoot)
  ok(packed, 'npm pack')
  const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[]
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }))
  ok(
    await exec(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, tarball!.filename)],
      project
    ),
    'npm install of the tarball'
  )
  // A word count: a repartition topic and a changelog, so reset has internal topics to delete.
  writeFileSync(
    join(project, 'app.ts'),
    `import { defineApp, ErrorHandlers, Materialized, Serdes, StreamsBuilder } from 'streamlane'

export default defineApp({
  topology: () => {
    const builder = new StreamsBuilder()
    builder
      .stream(process.env.LINES_TOPIC ?? 'lines', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .flatMapValues((line) => (line ?? '').split(' ').filter((word) => word.length > 0))
      .groupBy((_, word) => word, { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .count(Materialized.as('counts'))
      .toStream()
      .to(process.env.WORD_COUNTS_TOPIC ?? 'word-counts', { keySerde: Serdes.string(), valueSerde: Serdes.long() })
    return builder.build()
  },
  config: { applicationId: 'my-words' },
  errorHandlers: { deserialization: ErrorHandlers.deadLetter(process.env.DEAD_LETTER_TOPIC ?? 'lines-dlq') }
})
`
  )
})

after(async () => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await admin?.deleteTopics([input, output, deadLetters, ...internalTopics], { ifExists: true }).catch(() => {})
  await admin?.close()
  rmSync(work, { recursive: true, force: true })
})

test('the package ships the compiled CLI and its assets, not the sources', () => {
  const installed = join(project, 'node_modules/streamlane')
  assert.equal(existsSync(join(installed, 'dist/cli/main.js')), true)
  assert.equal(existsSync(join(installed, 'dist/autoscale/proto/externalscaler.proto')), true)
  assert.equal(existsSync(join(installed, 'src')), false)
  assert.deepEqual(readdirSync(join(installed, 'bin')), ['streamlane.js'])
})

test('describe prints the topology of an app that imports the package', async () => {
  const result = await streamlane('describe', 'app.ts')
  ok(result, 'describe')
  assert.match(result.stdout, /Sub-topology: 0/)
  assert.match(result.stdout, new RegExp(`topics: \\[${input}\\]`))
  assert.match(result.stdout, /counts-repartition/)
})

test('topics create creates the missing input, output and dead-letter topics, then skips them', async () => {
  const first = await streamlane('topics', 'create', 'app.ts', '--partitions', '2')
  ok(first, 'topics create')
  assert.match(first.stdout, new RegExp(`created input ${input} \\(2 partitions\\)`))
  assert.match(first.stdout, new RegExp(`created output ${output} \\(2 partitions\\)`))
  assert.match(first.stdout, new RegExp(`created dead-letter ${deadLetters} \\(2 partitions\\)`))
  const described = await admin.describeTopics([input, output, deadLetters])
  assert.deepEqual(
    described.map((d) => d.partitions.length),
    [2, 2, 2]
  )
  const second = await streamlane('topics', 'create', 'app.ts')
  ok(second, 'topics create, again')
  assert.match(second.stdout, new RegExp(`exists  input ${input} \\(2 partitions\\): skipped`))
  assert.doesNotMatch(second.stdout, /created/)
})

test('run counts the words, refuses a reset meanwhile, and on SIGTERM commits and exits 0', async () => {
  const app = startStreamlane('run', 'app.ts')
  const producer = createProducer({ brokers: testBrokers() })
  try {
    await producer.send(
      ['a b a', 'b c', 'a'].map((line, i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(line) }))
    )
  } finally {
    await producer.close()
  }
  const expected = new Map([
    ['a', 3n],
    ['b', 2n],
    ['c', 1n]
  ])
  await readTopic(output, 2, (records) => {
    const latest = new Map(records.map((r) => [r.key!.toString(), r.value!.readBigInt64BE(0)]))
    return [...expected].every(([word, count]) => latest.get(word) === count)
  })

  const refused = await streamlane('reset', 'app.ts')
  assert.equal(refused.code, 1, refused.stdout)
  assert.match(refused.stderr, /consumer group \S+ has 1 active member .*Stop every instance/)
  assert.match(refused.stderr, /STREAMLANE_RESET_GROUP_ACTIVE/)

  app.child.kill('SIGTERM')
  assert.equal(await app.exited, 0, app.output())
  assert.equal(await committedInput(admin, appId, input), await topicEnd(admin, input))
  assert.equal(await topicEnd(admin, input), 3)
})

test('reset --dry-run prints the plan and changes nothing; reset rewinds, deletes and wipes', async () => {
  const existing = await admin.listTopics()
  for (const topic of internalTopics) assert.ok(existing.includes(topic), `${topic} exists after the run`)
  assert.equal(existsSync(join(stateDir, appId)), true)

  const dry = await streamlane('reset', 'app.ts', '--dry-run')
  ok(dry, 'reset --dry-run')
  assert.match(dry.stdout, /dry run: would reset application/)
  const moved = [...dry.stdout.matchAll(new RegExp(`  ${input} partition (\\d): (\\d+|none committed) -> 0`, 'g'))]
  assert.equal(moved.length, 2, dry.stdout)
  for (const topic of internalTopics) assert.match(dry.stdout, new RegExp(`^  ${topic}$`, 'm'))
  assert.match(dry.stdout, new RegExp(`would wipe local state directory ${join(stateDir, appId)}`))
  assert.equal(await committedInput(admin, appId, input), 3)
  assert.ok((await admin.listTopics()).includes(internalTopics[0]!))
  assert.equal(existsSync(join(stateDir, appId)), true)

  const reset = await streamlane('reset', 'app.ts')
  ok(reset, 'reset')
  assert.match(reset.stdout, /: done$/m)
  const offsets = await admin.fetchGroupOffsets(appId, [input])
  assert.deepEqual(
    offsets.map((o) => [o.partition, o.offset]),
    [
      [0, 0n],
      [1, 0n]
    ]
  )
  const after = await admin.listTopics()
  for (const topic of internalTopics) assert.equal(after.includes(topic), false, `${topic} deleted`)
  assert.equal(existsSync(join(stateDir, appId)), false)
})

test('scaler starts from the package, answers /healthz and a KEDA IsActive call', async () => {
  const scaler = startStreamlane(
    'scaler',
    ...['--host', '127.0.0.1', '--grpc-port', '0', '--http-port', '0', '--log-level', 'info']
  )
  const listening = await waitFor('the scaler to listen', () => {
    const line = scaler
      .output()
      .split('\n')
      .find((l) => l.includes('"scaler listening"'))
    return line ? (JSON.parse(line) as { grpcPort: number; httpPort: number }) : undefined
  })
  const health = await fetch(`http://127.0.0.1:${listening.httpPort}/healthz`)
  assert.equal(health.status, 200)
  const client = externalScalerClient(`127.0.0.1:${listening.grpcPort}`)
  try {
    const reply = await new Promise<{ result: boolean }>((resolve, reject) => {
      const isActive = client.IsActive as (
        request: unknown,
        callback: (error: Error | null, reply: { result: boolean }) => void
      ) => void
      isActive.call(
        client,
        { name: 'words', namespace: 'test', scalerMetadata: { consumerGroup: appId, topics: input } },
        (error, value) => (error ? reject(error) : resolve(value))
      )
    })
    // Reset to the earliest offset: the 3 lines are lag again, so the app is active.
    assert.equal(reply.result, true)
  } finally {
    client.close()
  }
  scaler.child.kill('SIGTERM')
  assert.equal(await scaler.exited, 0, scaler.output())
})
