/**
 * `npm run kafka`: starts a development broker in `.kafka/dev` that keeps running after this command returns,
 * waits until it answers and prints its bootstrap address. Port 9092 unless taken (or KAFKA_PORT).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BrokerSetupError, freePort, repoRoot, startBroker } from './broker.ts'

const dir = join(repoRoot, '.kafka/dev')
const pidFile = join(dir, 'broker.pid')

function runningBroker(): { pid: number; bootstrap: string } | undefined {
  if (!existsSync(pidFile)) return undefined
  const [pid, bootstrap] = readFileSync(pidFile, 'utf8').trim().split(' ')
  try {
    process.kill(Number(pid), 0)
    return { pid: Number(pid), bootstrap: bootstrap ?? '' }
  } catch {
    return undefined
  }
}

try {
  const running = runningBroker()
  if (running) {
    console.log(`KAFKA_BROKERS=${running.bootstrap}`)
  } else {
    const wanted = Number(process.env.KAFKA_PORT ?? 9092)
    const port = (await isFree(wanted)) ? wanted : await freePort()
    const broker = await startBroker({ dir, port, detached: true })
    writeFileSync(pidFile, `${broker.pid} ${broker.bootstrap}\n`)
    console.log(`KAFKA_BROKERS=${broker.bootstrap}`)
    console.error(
      `streamlane: broker running (pid ${broker.pid}, log ${broker.logFile}); stop it with npm run kafka:stop`
    )
  }
} catch (error) {
  console.error(`streamlane: ${error instanceof BrokerSetupError ? error.message : String(error)}`)
  process.exit(1)
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
