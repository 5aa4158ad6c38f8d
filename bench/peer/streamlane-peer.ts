/**
 * The Streamlane side of the peer benchmark (bench/peer.ts), a Node process of its own like the JVM on the Kafka
 * Streams side (conformance/kafka-streams' PeerBench.java), speaking the same protocol: several apps of the same
 * topology run one after the other in this process, so the first runs cold and the next ones warm. Commands on
 * stdin, one a line:
 *
 *   run APPLICATION_ID STATE_DIR OUTPUT_TOPIC EXPECTED_RESTORED   starts an app ("restored N" once N changelog
 *                                                                 records are restored, when N > 0)
 *   close                                                         closes it, then prints "closed"
 *
 * End of input exits. Arguments: bootstrap topology(map|count|window|reduce) inputTopic guarantee
 * (at_least_once|exactly_once_v2) commitIntervalMs windowMs graceMs
 */
import { createInterface } from 'node:readline'
import { setTimeout as delay } from 'node:timers/promises'
import { pino } from 'pino'
import { Materialized, Serdes, StreamlaneApp, StreamsBuilder, TimeWindows, type Topology } from '../../src/index.ts'
import { type PeerTopology, upperCase } from './workloads.ts'

const bytes = { keySerde: Serdes.bytes(), valueSerde: Serdes.bytes() }
const longValues = { keySerde: Serdes.bytes(), valueSerde: Serdes.long() }

function topology(kind: PeerTopology, input: string, output: string, windowMs: number, graceMs: number): Topology {
  const builder = new StreamsBuilder()
  const stream = builder.stream(input, bytes)
  if (kind === 'map') {
    stream.mapValues(upperCase).to(output, bytes)
    return builder.build()
  }
  const grouped = stream.groupByKey()
  if (kind === 'count') grouped.count(Materialized.as('counts')).toStream().to(output, longValues)
  else if (kind === 'window') {
    grouped
      .windowedBy(TimeWindows.ofSizeAndGrace(windowMs, graceMs))
      .count(Materialized.as('windowed'))
      .toStream()
      .map((windowed, count): [Buffer, bigint] => [
        Buffer.from(`${windowed.key.toString('latin1')}@${windowed.window.start}`),
        count
      ])
      .to(output, longValues)
  } else {
    grouped
      .reduce((_, value) => value, Materialized.as('latest'))
      .toStream()
      .to(output, bytes)
  }
  return builder.build()
}

const [bootstrap, kind, input, guarantee, commitIntervalMs, windowMs, graceMs] = process.argv.slice(2) as [
  string,
  PeerTopology,
  string,
  'at_least_once' | 'exactly_once_v2',
  string,
  string,
  string
]
const say = (line: string) => process.stdout.write(`${line}\n`)
const logger = pino({ level: 'warn' }, process.stderr)

let app: StreamlaneApp | undefined
/** Prints "restored N" once the app has restored `expected` changelog records. */
async function reportRestored(running: StreamlaneApp, expected: number): Promise<void> {
  while (app === running && running.progress().restored < expected) {
    if (running.state === 'ERROR') return
    await delay(10)
  }
  if (app === running) say(`restored ${running.progress().restored}`)
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, applicationId, stateDir, output, expectedRestored] = line.trim().split(' ')
  if (command === 'run') {
    const running = new StreamlaneApp(
      topology(kind, input, output!, Number(windowMs), Number(graceMs)),
      {
        applicationId: applicationId!,
        bootstrapServers: bootstrap.split(','),
        stateDir: stateDir!,
        processingGuarantee: guarantee,
        commitIntervalMs: Number(commitIntervalMs)
      },
      { logger }
    )
    app = running
    running.onError((error) => say(`error ${error.message.replaceAll('\n', ' ')}`))
    await running.start()
    if (Number(expectedRestored) > 0) void reportRestored(running, Number(expectedRestored))
  } else if (command === 'close') {
    const closing = app
    app = undefined
    await closing?.close()
    say('closed')
  }
}
await app?.close()
