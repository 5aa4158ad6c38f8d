/**
 * One container run in the foreground by podman, as a kubelet would run a pod's container: on the host network (the
 * broker is on 127.0.0.1), with the given volume at the state dir. Its stderr (Streamlane's JSON log) is collected;
 * `exited` resolves to the container's exit code (137 after SIGKILL).
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { waitFor } from '../support/wait.ts'
import { PODMAN_LIMITS, podman, podmanChild } from './podman.ts'

export const STATE_DIR = '/var/lib/streamlane'

export interface ContainerOptions {
  image: string
  env: Record<string, string>
  /** A named volume mounted at the image's state dir. */
  volume?: string
  args?: string[]
}

/** One JSON log line of a Streamlane process. */
export type LogEntry = Record<string, unknown> & { msg: string; time: number }

export class ContainerInstance {
  readonly name: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  /** When `podman run` was started, host clock (the container's is the same). */
  readonly startedAt = Date.now()
  log = ''

  constructor(name: string, options: ContainerOptions) {
    this.name = name
    const env = Object.entries(options.env).flatMap(([key, value]) => ['--env', `${key}=${value}`])
    const volume = options.volume ? ['--volume', `${options.volume}:${STATE_DIR}`] : []
    this.child = podmanChild([
      'run',
      '--name',
      name,
      '--network=host',
      ...PODMAN_LIMITS,
      ...volume,
      ...env,
      options.image,
      ...(options.args ?? [])
    ])
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.log += chunk.toString()
    })
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.log += chunk.toString()
    })
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null)
  }

  /**
   * Waits for `check` while the container runs: a container that exits fails the wait at once, with its log's end.
   */
  async waitFor<T>(
    what: string,
    check: () => T | Promise<T>,
    timeoutMs = 120_000,
    intervalMs = 200
  ): Promise<NonNullable<T>> {
    const outcome = await waitFor(
      `${this.name}: ${what}`,
      async () => {
        if (this.child.exitCode !== null) return { exited: this.child.exitCode }
        const value = await check()
        return value ? { value: value as NonNullable<T> } : undefined
      },
      { timeoutMs, intervalMs }
    )
    if ('exited' in outcome) {
      throw new Error(`${this.name} exited with ${outcome.exited} before ${what}:\n${this.log.slice(-4000)}`)
    }
    return outcome.value
  }

  /** The JSON log lines with the given message, in order. */
  entries(msg: string): LogEntry[] {
    const found: LogEntry[] = []
    for (const line of this.log.split('\n')) {
      if (!line.startsWith('{') || !line.includes(`"msg":"${msg}"`)) continue
      found.push(JSON.parse(line) as LogEntry)
    }
    return found
  }

  /** The port its metrics and health endpoint bound (the app is given port 0 and logs the one it got). */
  metricsPort(): number | undefined {
    return this.entries('metrics and health endpoint listening')[0]?.port as number | undefined
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`, like a pod's termination grace period; the exit code. */
  async stop(graceSeconds: number): Promise<number | null> {
    await podman(['stop', '--time', String(graceSeconds), this.name], { timeoutMs: (graceSeconds + 30) * 1000 })
    return this.exited
  }

  async kill(): Promise<number | null> {
    await podman(['kill', '--signal', 'KILL', this.name])
    return this.exited
  }
}
