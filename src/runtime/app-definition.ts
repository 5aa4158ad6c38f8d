/**
 * What a user's app module exports for `streamlane run`: the topology, the configuration it needs and, if it wants
 * them, error handlers. `defineApp` only gives it a type; the CLI validates the object when it loads the module.
 */
import type { ErrorHandlerConfig, Topology } from '../topology/index.ts'
import type { StreamsConfigInput } from './config.ts'

export interface AppDefinition {
  /** The topology, or a function that builds it (called once per run, after configuration is known). */
  topology: Topology | (() => Topology)
  /** Options from the module; a config file and the environment override them. */
  config?: Partial<StreamsConfigInput>
  errorHandlers?: ErrorHandlerConfig
}

export function defineApp(definition: AppDefinition): AppDefinition {
  return definition
}
