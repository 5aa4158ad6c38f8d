/**
 * The setup the query tests share: topics under fresh names, a group of in-process instances of one app (each its own
 * state dir and free loopback applicationServer) started until every instance sees them all, and a group of
 * `streamlane run` processes of the word-count example.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StreamsConfigInput } from '../../../src/runtime/config.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
import type { Topology } from '../../../src/topology/index.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from '../runtime/instances.ts'
import { createTopics } from '../runtime/support.ts'
import { freePort } from './free-port.ts'

/** Instances of one app for query tests, each with its own state dir and a free loopback applicationServer. */
export interface QueryGroup {
  readonly apps: StreamlaneApp[]
  readonly hosts: string[]
  /** Closes every instance and removes the state dirs. */
  close(): Promise<void>
}

export async function createQueryGroup(
  instances: number,
  newApp: (placement: { stateDir: string; applicationServer: string }) => StreamlaneApp
): Promise<QueryGroup> {
  const apps: StreamlaneApp[] = []
  const hosts: string[] = []
  const dirs: string[] = []
  const close = async () => {
    await Promise.allSettled(apps.map((app) => app.close()))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < instances; i++) {
      const applicationServer = `127.0.0.1:${await freePort()}`
      const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-query-'))
      dirs.push(stateDir)
      hosts.push(applicationServer)
      apps.push(newApp({ stateDir, applicationServer }))
    }
  } catch (error) {
    await close()
    throw error
  }
  return { apps, hosts, close }
}

/**
 * Creates topics under fresh names (`<prefix>-<role>`), `partitions` each, and returns the names by role. The
 * application id is `prefix` made unique too.
 */
export async function freshTopics<R extends string>(
  prefix: string,
  roles: readonly R[],
  partitions: number
): Promise<{ appId: string; topics: Record<R, string> }> {
  const topics = Object.fromEntries(roles.map((role) => [role, uniqueName(`${prefix}-${role}`)])) as Record<R, string>
  await createTopics(Object.values<string>(topics).map((name) => ({ name, partitions })))
  return { appId: uniqueName(prefix), topics }
}

/**
 * `instances` in-process instances of `topology` on the test broker, with the query endpoint behind `metricsToken`
 * and a 200 ms commit interval (`config` adds or overrides settings). The first `start` of them (default all) are
 * started, and awaited until each runs with a host map of them all.
 */
export async function startQueryGroup(options: {
  instances: number
  topology: () => Topology
  config: Omit<StreamsConfigInput, 'bootstrapServers' | 'stateDir' | 'applicationServer'>
  start?: number
}): Promise<QueryGroup> {
  const group = await createQueryGroup(
    options.instances,
    ({ stateDir, applicationServer }) =>
      new StreamlaneApp(options.topology(), {
        bootstrapServers: testBrokers(),
        stateDir,
        applicationServer,
        commitIntervalMs: 200,
        ...options.config
      })
  )
  try {
    await runningWith(group.apps.slice(0, options.start ?? options.instances))
  } catch (error) {
    await group.close()
    throw error
  }
  return group
}

/** Starts the instances not started yet and waits until each of them runs with a host map of them all. */
export async function runningWith(apps: readonly StreamlaneApp[]): Promise<void> {
  await Promise.all(apps.filter((app) => app.state === 'CREATED').map((app) => app.start()))
  await waitFor(
    `every instance runs with the same ${apps.length}-host map`,
    () => apps.every((app) => app.state === 'RUNNING' && app.metadataForAllStreamsClients().length === apps.length),
    { timeoutMs: 60_000 }
  )
}

/** A user's sessions as a session store counts them: views sorted by time, a new session after a pause over `gapMs`. */
export function sessionsOf(
  timestamps: readonly number[],
  gapMs: number
): { start: number; end: number; value: number }[] {
  const sessions: { start: number; end: number; value: number }[] = []
  for (const t of [...timestamps].sort((a, b) => a - b)) {
    const last = sessions.at(-1)
    if (last && t - last.end <= gapMs) {
      last.end = t
      last.value++
    } else sessions.push({ start: t, end: t, value: 1 })
  }
  return sessions
}

/** `count` free loopback host:port pairs, for instances' applicationServer. */
export async function freeHosts(count: number): Promise<string[]> {
  const hosts: string[] = []
  for (let i = 0; i < count; i++) hosts.push(`127.0.0.1:${await freePort()}`)
  return hosts
}

const wordCountModule = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))

/**
 * Word-count instances as `streamlane run` processes of one application, each with its own state dir, under
 * exactly-once with a 200 ms commit interval and a 6 s session timeout (a killed instance is noticed soon), the query
 * endpoint behind `token`; `env` adds or overrides settings.
 */
export class WordCountProcesses {
  readonly instances: AppInstance[] = []
  readonly #env: Record<string, string>
  readonly #dirs: string[] = []

  constructor(app: { appId: string; lines: string; counts: string; token: string; env?: Record<string, string> }) {
    this.#env = {
      STREAMLANE_APPLICATION_ID: app.appId,
      LINES_TOPIC: app.lines,
      WORD_COUNTS_TOPIC: app.counts,
      STREAMLANE_METRICS_TOKEN: app.token,
      STREAMLANE_PROCESSING_GUARANTEE: 'exactly_once_v2',
      STREAMLANE_COMMIT_INTERVAL_MS: '200',
      STREAMLANE_SESSION_TIMEOUT_MS: '6000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      ...app.env
    }
  }

  /** Starts an instance named `name` that publishes `host` as its applicationServer. */
  start(name: string, host: string): AppInstance {
    const stateDir = mkdtempSync(join(tmpdir(), 'streamlane-query-'))
    this.#dirs.push(stateDir)
    const instance = new AppInstance(name, wordCountModule, {
      ...this.#env,
      STREAMLANE_STATE_DIR: stateDir,
      STREAMLANE_APPLICATION_SERVER: host
    })
    this.instances.push(instance)
    return instance
  }

  /** Kills every instance still running and removes the state dirs. */
  async close(): Promise<void> {
    await killAll(this.instances)
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
  }
}
