/**
 * Process metrics (CPU, memory, event loop lag, GC, handles) from prom-client's `collectDefaultMetrics`. They describe
 * the process, not an app, and their collectors cannot be stopped (GC observer, event loop histogram), so they are
 * collected once per process into a registry of their own, never prom-client's global one, which every app's registry
 * merges in.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

let processRegistry: Registry | undefined

/** A registry with `own`'s metrics and the process metrics (whose collection starts on the first call). */
export function withProcessMetrics(own: Registry): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return Registry.merge([own, processRegistry])
}
