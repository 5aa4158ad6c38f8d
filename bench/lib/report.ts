/**
 * Results files in bench/results/: the table, the exact command that made it, when, on what machine, and under how
 * much other load. A number without its command and machine is an anecdote.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { repoRoot } from '../../scripts/kafka/broker.ts'

export const resultsDir = join(repoRoot, 'bench/results')

/** The command as the user typed it: `npm run <script> -- args` under npm, else `node <file> args`. */
export function invokingCommand(): string {
  const args = process.argv.slice(2)
  const script = process.env.npm_lifecycle_event
  const env = process.env.KAFKA_BROKERS ? `KAFKA_BROKERS=${process.env.KAFKA_BROKERS} ` : ''
  if (script) return `${env}npm run ${script}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`
  const file = relative(repoRoot, process.argv[1] ?? '')
  return `${env}node ${[file, ...args].join(' ')}`
}

/** The Kafka version of the jars the broker and the perf tools run, read from the kafka_2.13 jar's name. */
export function kafkaVersion(): string {
  try {
    const jar = readdirSync(join(repoRoot, '.kafka/lib')).find((f) => /^kafka_2\.13-.*\.jar$/.test(f))
    return jar?.replace(/^kafka_2\.13-(.*)\.jar$/, '$1') ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** `java -version` prints on stderr. */
function javaVersion(): string {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' })
  return `${result.stderr ?? ''}${result.stdout ?? ''}`.split('\n', 1)[0]?.trim() || 'java: unknown'
}

export function machineFacts(): string[] {
  const cpu = cpus()[0]?.model ?? 'unknown'
  return [
    `nproc: ${availableParallelism()} (${cpu})`,
    `memory: ${Math.round(totalmem() / 2 ** 30)} GiB; kernel ${release()}`,
    `Node ${process.version}; Kafka ${kafkaVersion()} (broker and perf tools); ${javaVersion()}`,
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`
  ]
}

export interface ResultsDocument {
  title: string
  /** What was measured and how, in a few sentences. */
  summary: string[]
  tables: { heading: string; markdown: string }[]
  notes: string[]
  brokerDescription: string
}

/** Writes the results file and returns its path. */
export function writeResults(fileName: string, doc: ResultsDocument): string {
  const path = join(resultsDir, fileName)
  mkdirSync(dirname(path), { recursive: true })
  const lines = [
    `# ${doc.title}`,
    '',
    `Command: \`${invokingCommand()}\``,
    '',
    `Date: ${new Date().toISOString()}`,
    '',
    'Machine:',
    '',
    ...machineFacts().map((f) => `- ${f}`),
    `- broker: ${doc.brokerDescription}`,
    '- the machine was shared: other engineers ran test suites at the same time; the "other" column is the CPU they' +
      ' used during each measurement (cores busy with anything but this process, its broker and the Kafka tool)',
    '',
    ...doc.summary,
    ''
  ]
  for (const table of doc.tables) lines.push(`## ${table.heading}`, '', table.markdown, '')
  if (doc.notes.length > 0) lines.push('## Notes', '', ...doc.notes.map((n) => `- ${n}`), '')
  writeFileSync(path, lines.join('\n'))
  return path
}
