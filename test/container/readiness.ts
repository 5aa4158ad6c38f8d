/**
 * Watches a starting container's readiness probe the way a kubelet does, only more often: `GET /ready` in a loop
 * from the moment its endpoint listens until the first 200. Each answer is kept with when it was asked and received
 * (host clock, the containers' too), so a test can line the answers up with the log's restoration events.
 */
import type { ContainerInstance } from './container-instance.ts'

export interface ReadySample {
  sentAt: number
  receivedAt: number
  status: number
}

export async function sampleReadiness(instance: ContainerInstance, timeoutMs = 120_000): Promise<ReadySample[]> {
  const port = await instance.waitFor('its endpoint listening', () => instance.metricsPort(), timeoutMs, 10)
  const samples: ReadySample[] = []
  await instance.waitFor(
    'ready',
    async () => {
      const sentAt = Date.now()
      const { status } = await fetch(`http://127.0.0.1:${port}/ready`)
      samples.push({ sentAt, receivedAt: Date.now(), status })
      return status === 200
    },
    timeoutMs,
    10
  )
  return samples
}
