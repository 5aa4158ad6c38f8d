/**
 * Loads a user's app module (TypeScript or JavaScript) and its configuration layers for `run` and `describe`:
 * the module's `config`, then a JSON config file, then environment variables, later layers winning.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.ts'
import {
  type AppDefinition,
  configFromEnvironment,
  resolveConfig,
  type StreamsConfig,
  type StreamsConfigInput
} from '../runtime/index.ts'
import { isTopology, type Topology } from '../topology/index.ts'
import { typeScriptModuleProblem } from './typescript-support.ts'

export interface LoadedApp {
  definition: AppDefinition
  topology: Topology
  /** Validated; absent when loaded only to describe the topology. */
  config?: StreamsConfig
}

/** With `withConfig`, the configuration is validated before the topology is built, so its errors come first. */
export async function loadAppModule(
  modulePath: string,
  options: { configFile?: string; withConfig: boolean }
): Promise<LoadedApp> {
  const typeScriptProblem = typeScriptModuleProblem(modulePath)
  if (typeScriptProblem) throw new ConfigError('module', typeScriptProblem)
  const url = pathToFileURL(resolve(modulePath)).href
  let exported: { default?: unknown }
  try {
    exported = await import(url)
  } catch (error) {
    throw new ConfigError('module', `cannot load app module ${modulePath}: ${(error as Error).message}`)
  }
  const definition = exported.default as AppDefinition | undefined
  if (!definition || typeof definition !== 'object' || !('topology' in definition)) {
    throw new ConfigError(
      'module',
      `${modulePath} must default-export an app definition: export default defineApp({ topology, config })`
    )
  }
  let config: StreamsConfig | undefined
  if (options.withConfig) {
    const layers: Partial<StreamsConfigInput>[] = [definition.config ?? {}]
    if (options.configFile) layers.push(readConfigFile(options.configFile))
    layers.push(configFromEnvironment())
    config = resolveConfig(...layers)
  }
  const topology = typeof definition.topology === 'function' ? definition.topology() : definition.topology
  if (!isTopology(topology)) {
    throw new ConfigError('module.topology', `${modulePath}: topology must be a Topology (builder.build())`)
  }
  return { definition, topology, config }
}

function readConfigFile(path: string): Partial<StreamsConfigInput> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError('config file', `cannot read ${path}: ${(error as Error).message}`)
  }
  try {
    return JSON.parse(text) as Partial<StreamsConfigInput>
  } catch (error) {
    throw new ConfigError('config file', `${path} is not valid JSON: ${(error as Error).message}`)
  }
}
