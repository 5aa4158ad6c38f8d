/**
 * The Kafka Streams side of the differential suite: builds conformance/kafka-streams (Maven) once per change of its
 * sources into `.conformance/` (ignored), then runs a whole catalogue in one JVM through the line protocol described
 * in Runner.java.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { join, relative } from 'node:path'
import type { ConformanceCase, InputEvent } from './cases.ts'
import type { CaseOutput, OutputRecord } from './compare.ts'

const repoRoot = join(import.meta.dirname, '..', '..')
const projectDir = join(repoRoot, 'conformance', 'kafka-streams')
const cacheDir = join(repoRoot, '.conformance')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'target' ? [] : sourceFiles(path)
    return [path]
  })
}

/** A hash of the pom and the Java sources: the build is redone only when it changes. */
function sourceHash(): string {
  const hash = createHash('sha256')
  for (const file of sourceFiles(projectDir).sort()) {
    hash.update(relative(projectDir, file))
    hash.update(readFileSync(file))
  }
  return hash.digest('hex').slice(0, 16)
}

function validClasspath(file: string): string | null {
  if (!existsSync(file)) return null
  const classpath = readFileSync(file, 'utf8').trim()
  return classpath.split(':').every((entry) => existsSync(entry)) ? classpath : null
}

/**
 * The classpath of the built runner (its jar first), building it when the sources changed since the last build.
 * A build happens in a directory of its own, renamed into place when done, so test files running at the same time
 * may build it side by side; the first to finish wins.
 */
export function kafkaStreamsClasspath(): string {
  const hash = sourceHash()
  const dir = join(cacheDir, hash)
  const cached = validClasspath(join(dir, 'classpath.txt'))
  if (cached !== null) return cached
  mkdirSync(cacheDir, { recursive: true })
  for (const entry of readdirSync(cacheDir)) {
    if (!entry.startsWith(hash) && !entry.endsWith('.tmp'))
      rmSync(join(cacheDir, entry), { recursive: true, force: true })
  }
  // A build whose dependencies are gone (a cleaned Maven repository) is redone.
  if (validClasspath(join(dir, 'classpath.txt')) === null) rmSync(dir, { recursive: true, force: true })
  const work = join(cacheDir, `${hash}.${process.pid}.tmp`)
  mkdirSync(work, { recursive: true })
  try {
    const dependencies = join(work, 'dependencies.txt')
    try {
      execFileSync(
        'mvn',
        [
          '-q',
          '-B',
          '-f',
          join(projectDir, 'pom.xml'),
          `-DbuildDir=${join(work, 'target')}`,
          'package',
          'dependency:build-classpath',
          `-Dmdep.outputFile=${dependencies}`
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] }
      )
    } catch (error) {
      const output = error as { stdout?: Buffer; stderr?: Buffer }
      throw new Error(
        `building the Kafka Streams side of the differential suite failed (mvn package in ${projectDir}; Maven and ` +
          `Java 17 must be installed, and Maven Central reachable the first time):\n${output.stdout ?? ''}${output.stderr ?? ''}`
      )
    }
    copyFileSync(join(work, 'target', 'streamlane-conformance-0.0.0.jar'), join(work, 'streamlane-conformance.jar'))
    rmSync(join(work, 'target'), { recursive: true, force: true })
    const classpath = `${join(dir, 'streamlane-conformance.jar')}:${readFileSync(dependencies, 'utf8').trim()}`
    writeFileSync(join(work, 'classpath.txt'), classpath)
    try {
      renameSync(work, dir)
    } catch {
      // Another build finished first: use its result.
    }
    const built = validClasspath(join(dir, 'classpath.txt'))
    if (built === null) throw new Error(`the Kafka Streams runner built into ${dir} is incomplete`)
    return built
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

const hex = (text: string | null): string => (text === null ? '-' : Buffer.from(text, 'utf8').toString('hex'))
const bytes = (field: string): Buffer | null => (field === '-' ? null : Buffer.from(field, 'hex'))

function eventLine(event: InputEvent): string {
  return event.kind === 'pipe'
    ? ['pipe', event.topic, hex(event.key), hex(event.value), String(event.timestamp)].join('\t')
    : ['advance', String(event.ms)].join('\t')
}

function paramSpec(c: ConformanceCase): string {
  const entries = Object.entries(c.params)
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',')
}

/** Runs every case with Kafka Streams' TopologyTestDriver in one JVM; returns each case's output by case id. */
export async function runKafkaStreams(cases: readonly ConformanceCase[]): Promise<Map<string, CaseOutput>> {
  const classpath = kafkaStreamsClasspath()
  const input = cases
    .flatMap((c) => [
      ['case', c.id, c.topology, String(c.cacheMaxBytes), paramSpec(c)].join('\t'),
      ...c.events.map(eventLine),
      'end'
    ])
    .join('\n')
  const child = spawn(
    'java',
    ['-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpath, 'dev.streamlane.conformance.Runner'],
    {
      stdio: ['pipe', 'pipe', 'pipe']
    }
  )
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  child.stdin.end(`${input}\n`)
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
  if (code !== 0) {
    throw new Error(`the Kafka Streams runner exited with ${code}:\n${Buffer.concat(stderr).toString()}`)
  }
  const outputs = new Map<string, CaseOutput>()
  const get = (id: string): CaseOutput => {
    let output = outputs.get(id)
    if (output === undefined) {
      output = { records: [], error: null, done: false }
      outputs.set(id, output)
    }
    return output
  }
  for (const line of Buffer.concat(stdout).toString('utf8').split('\n')) {
    const fields = line.split('\t')
    if (fields[0] === 'out') {
      const [, id, after, topic, key, value, timestamp] = fields as [
        string,
        string,
        string,
        string,
        string,
        string,
        string
      ]
      const record: OutputRecord = {
        after: Number(after),
        topic,
        key: bytes(key),
        value: bytes(value),
        timestamp: Number(timestamp)
      }
      ;(get(id).records as OutputRecord[]).push(record)
    } else if (fields[0] === 'done') get(fields[1]!).done = true
    else if (fields[0] === 'error') get(fields[1]!).error = fields.slice(2).join(' ')
  }
  return outputs
}
