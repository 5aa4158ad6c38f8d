/**
 * The benchmark's end of a peer process (the JVM running PeerBench.java, or Node running streamlane-peer.ts): sends
 * it commands, waits for its answer lines, reads its CPU from /proc, and makes sure it is gone afterwards. A line
 * "error ..." from the process, or its exit, fails whatever is waited for.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { processCpuSeconds } from '../lib/cpu-meter.ts'

export class PeerProcess {
  readonly label: string
  readonly #child: ChildProcess
  readonly #exited: Promise<number | null>
  #stderr = ''
  #failure: Error | undefined
  #lastCpu = 0
  readonly #waiters = new Set<{ prefix: string; resolve: (line: string) => void; reject: (e: Error) => void }>()

  constructor(label: string, command: string, args: string[]) {
    this.label = label
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.#child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)
    })
    this.#exited = new Promise((resolve) => this.#child.once('exit', resolve))
    void this.#exited.then((code) => this.#fail(new Error(`${label} exited with ${code}:\n${this.#stderr}`)))
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      if (line.startsWith('error ')) this.#fail(new Error(`${label}: ${line.slice(6)}\n${this.#stderr}`))
      for (const waiter of this.#waiters) {
        if (!line.startsWith(waiter.prefix)) continue
        this.#waiters.delete(waiter)
        waiter.resolve(line)
      }
    })
  }

  #fail(error: Error): void {
    this.#failure ??= error
    for (const waiter of this.#waiters) waiter.reject(this.#failure)
    this.#waiters.clear()
  }

  /** The error that ended or broke the process, if any. */
  get failure(): Error | undefined {
    return this.#failure
  }

  /** CPU seconds (user + system, every thread) the process has used since it started. */
  cpuSeconds(): number {
    this.#lastCpu = processCpuSeconds(this.#child.pid!) ?? this.#lastCpu
    return this.#lastCpu
  }

  send(line: string): void {
    if (this.#failure) throw this.#failure
    this.#child.stdin!.write(`${line}\n`)
  }

  /** The next line starting with `prefix`. */
  waitFor(prefix: string, timeoutMs: number): Promise<string> {
    if (this.#failure) return Promise.reject(this.#failure)
    return new Promise((resolve, reject) => {
      const waiter = {
        prefix,
        resolve: (line: string) => {
          clearTimeout(timer)
          resolve(line)
        },
        reject: (error: Error) => {
          clearTimeout(timer)
          reject(error)
        }
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`${this.label}: no "${prefix}" line in ${timeoutMs} ms\n${this.#stderr}`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Ends its input (it exits once its app is closed); kills it if it is still there after 30 s. */
  async stop(): Promise<void> {
    this.#failure ??= new Error(`${this.label} was stopped`)
    this.#child.stdin!.end()
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 30_000)
    await this.#exited
    clearTimeout(timer)
  }
}
