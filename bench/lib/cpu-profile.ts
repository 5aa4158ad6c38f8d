/**
 * An optional CPU profile of one measured span: with BENCH_CPU_PROFILE_DIR set, `startCpuProfile(name)` starts the
 * V8 sampling profiler of this process (200 µs interval) and `stop()` writes `<dir>/<name>.cpuprofile` (open it in
 * Chrome DevTools or speedscope). Unset, both do nothing, so a benchmark's numbers are never taken under a profiler
 * by accident.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export interface CpuProfile {
  /** Writes the profile (when one was started) and returns its path. */
  stop(): Promise<string | undefined>
}

export async function startCpuProfile(name: string): Promise<CpuProfile> {
  const dir = process.env.BENCH_CPU_PROFILE_DIR
  if (!dir) return { stop: async () => undefined }
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      mkdirSync(dir, { recursive: true })
      const path = join(dir, `${name}.cpuprofile`)
      writeFileSync(path, JSON.stringify(profile))
      return path
    }
  }
}
