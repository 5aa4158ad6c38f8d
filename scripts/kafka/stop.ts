/** `npm run kafka:stop`: stops the development broker started by `npm run kafka`. */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { repoRoot } from './broker.ts'

const pidFile = join(repoRoot, '.kafka/dev/broker.pid')

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

if (!existsSync(pidFile)) {
  console.log('streamlane: no development broker is running')
} else {
  const pid = Number(readFileSync(pidFile, 'utf8').split(' ')[0])
  if (alive(pid)) {
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + 30_000
    while (alive(pid) && Date.now() < deadline) await delay(100)
    if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
  rmSync(pidFile)
  console.log(`streamlane: broker (pid ${pid}) stopped`)
}
