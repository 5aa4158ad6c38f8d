/**
 * The local Kubernetes cluster: the control plane (control-plane.ts) and, unless left out, KEDA (keda.ts), started
 * together and stopped together. Tests call startCluster(); `npm run k8s` runs it in the foreground.
 */
import { type ControlPlane, startControlPlane } from './control-plane.ts'
import { type Keda, startKeda } from './keda.ts'

export interface Cluster extends ControlPlane {
  keda?: Keda
}

export async function startCluster(options: {
  dir: string
  keda?: boolean
  log?: (line: string) => void
}): Promise<Cluster> {
  const plane = await startControlPlane(options)
  if (options.keda === false) return plane
  let keda: Keda
  try {
    keda = await startKeda(plane, options.log)
  } catch (error) {
    await plane.stop()
    throw error
  }
  return {
    ...plane,
    keda,
    processes: [...plane.processes, ...keda.processes],
    stop: async () => {
      await keda.stop()
      await plane.stop()
    }
  }
}
