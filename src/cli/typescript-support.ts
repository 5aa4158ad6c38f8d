/**
 * Whether this Node can load an app module written in TypeScript. Node strips types natively from 22.18 (and 23.6):
 * an older one fails with a bare "Unknown file extension .ts", which says nothing of the version or the way out.
 */

const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts']

export interface NodeRuntime {
  /** `process.version`, e.g. `v20.19.2`. */
  version: string
  /** `process.features.typescript`: 'strip' or 'transform' when Node runs TypeScript, false or absent otherwise. */
  typescript: string | false | undefined
}

export function currentNode(): NodeRuntime {
  const features = process.features as { typescript?: string | false }
  return { version: process.version, typescript: features.typescript }
}

/** Node versions that strip types without a flag: 22.18+ on 22.x, 23.6+ on 23.x, any later major. */
export function stripsTypesByDefault(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  if (major === 22) return minor >= 18
  if (major === 23) return minor >= 6
  return major > 23
}

/** Null when the module can be loaded; otherwise what is wrong and what to do, for the user. */
export function typeScriptModuleProblem(modulePath: string, node: NodeRuntime = currentNode()): string | null {
  if (!TYPESCRIPT_EXTENSIONS.some((extension) => modulePath.endsWith(extension))) return null
  if (node.typescript) return null
  if (!stripsTypesByDefault(node.version)) {
    return (
      `${modulePath} is TypeScript, which Node ${node.version} cannot load: Node >= 22.18 runs .ts files ` +
      `(Streamlane needs >= 22.22). Run it with Node 24, or compile the module to JavaScript and pass the .js file`
    )
  }
  return (
    `${modulePath} is TypeScript, but this Node ${node.version} runs with type stripping turned off ` +
    `(--no-experimental-strip-types, e.g. in NODE_OPTIONS). Remove that flag, or pass a compiled .js module`
  )
}
