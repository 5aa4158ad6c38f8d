import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'
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
