/**
 * Runs Kafka's own ProducerPerformance / ConsumerPerformance (from the kafka-tools jar the broker pom brings) and
 * parses their summaries. They are the ceiling any client can reach on this machine and broker.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { kafkaClasspath } from '../../scripts/kafka/broker.ts'

const execFileAsync = promisify(execFile)

export interface ToolResult {
  records: number
  seconds: number
  recordsPerSecond: number
  megabytesPerSecond: number
  cpuSeconds: number
}

/**
 * Runs a Kafka tool class and reports the CPU seconds it used: bash's `times` prints the user and system time of
 * the children it waited for, which Node's own resource usage does not include.
 */
async function runJava(mainClass: string, args: string[]): Promise<{ stdout: string; cpuSeconds: number }> {
  const quoted = ['java', '-Xmx768m', '-cp', kafkaClasspath(), mainClass, ...args].map((a) => `'${a}'`).join(' ')
  const { stdout } = await execFileAsync('bash', ['-c', `${quoted}; status=$?; echo "@@times"; times; exit $status`], {
    maxBuffer: 64 * 1024 * 1024
  })
  const [output = '', times = ''] = stdout.split('@@times\n')
  const childLine = times.trim().split('\n')[1] ?? ''
  const cpuSeconds = childLine
    .split(/\s+/)
    .map((t) => /(\d+)m([\d.]+)s/.exec(t))
    .reduce((sum, m) => sum + (m ? Number(m[1]) * 60 + Number(m[2]) : 0), 0)
  return { stdout: output, cpuSeconds }
}

export async function producerPerformance(
  bootstrap: string,
  topic: string,
  records: number,
  recordSize: number
): Promise<ToolResult> {
  const { stdout, cpuSeconds } = await runJava('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${bootstrap}`,
    'acks=all'
  ])
  const summary = stdout.trim().split('\n').at(-1) ?? ''
  const match = /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(summary)
  if (!match) throw new Error(`cannot parse ProducerPerformance output: ${summary}`)
  const recordsPerSecond = Number(match[2])
  return {
    records: Number(match[1]),
    seconds: Number(match[1]) / recordsPerSecond,
    recordsPerSecond,
    megabytesPerSecond: Number(match[3]),
    cpuSeconds
  }
}

export async function consumerPerformance(bootstrap: string, topic: string, records: number): Promise<ToolResult> {
  const { stdout, cpuSeconds } = await runJava('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--messages',
    String(records)
  ])
  const lines = stdout.trim().split('\n')
  const header = (lines.find((l) => l.startsWith('start.time')) ?? '').split(',').map((s) => s.trim())
  const values = (lines.at(-1) ?? '').split(',').map((s) => s.trim())
  const field = (name: string) => Number(values[header.indexOf(name)])
  // fetch.* excludes the group join time, which is not throughput.
  const consumed = field('data.consumed.in.nMsg')
  const fetchMs = field('fetch.time.ms')
  return {
    records: consumed,
    seconds: fetchMs / 1000,
    recordsPerSecond: field('fetch.nMsg.sec'),
    megabytesPerSecond: field('fetch.MB.sec'),
    cpuSeconds
  }
}
