/**
 * The Kafka Streams side of the differential suite: builds conformance/kafka-streams (Maven) once per change of its
 * sources into `.conformance/` (ignored), then runs a whole catalogue in one JVM through the line protocol described
 * in Runner.java.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/** The classpath of the built runner (its jar first), building it when the sources changed since the last build. */
export function kafkaStreamsClasspath(): string {
  const hash = sourceHash()
  const dir = join(cacheDir, hash)
  const classpathFile = join(dir, 'classpath.txt')
  if (existsSync(classpathFile)) {
    const classpath = readFileSync(classpathFile, 'utf8').trim()
    if (classpath.split(':').every((entry) => existsSync(entry))) return classpath
  }
  rmSync(cacheDir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const dependencies = join(dir, 'dependencies.txt')
  try {
    execFileSync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(projectDir, 'pom.xml'),
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
  const jar = join(dir, 'streamlane-conformance.jar')
  copyFileSync(join(projectDir, 'target', 'streamlane-conformance-0.0.0.jar'), jar)
  rmSync(join(projectDir, 'target'), { recursive: true, force: true })
  const classpath = `${jar}:${readFileSync(dependencies, 'utf8').trim()}`
  writeFileSync(classpathFile, classpath)
  return classpath
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
