/**
 * How the node agent turns a pod's container into a local process (the agent stands in for a kubelet and a
 * container runtime; docs/kubernetes-local.md lists what it does differently):
 * - the command: the image's entrypoint, from a table the test gives (image name -> command), then the pod's args;
 * - the environment: values, fieldRefs (metadata.name, metadata.namespace, spec.nodeName, status.podIP) and
 *   secretKeyRef / configMapKeyRef; a value naming a path under a volume's mountPath names the same path under the
 *   volume's folder on this machine instead (processes share one file system: there are no mounts);
 * - ports: every pod shares the host's network (127.0.0.1), so a declared port already given to another pod is
 *   replaced by a free one, and environment values equal to it are replaced too (the app's metrics port is an env var).
 */
import type { KubeObject } from '../../../scripts/k8s/kube-client.ts'

/** An image's ENTRYPOINT (command and its first arguments) and CMD (defaultArgs, replaced by the pod's args). */
export interface ContainerCommand {
  command: string
  args: string[]
  defaultArgs?: string[]
}

export interface ResolvedContainer {
  command: string
  args: string[]
  env: Record<string, string>
  /** Declared port -> the port on 127.0.0.1 the process listens on. */
  ports: Map<number, number>
  /** Named port (e.g. "metrics") -> the port on 127.0.0.1. */
  namedPorts: Map<string, number>
}

export class PodSpecError extends Error {
  readonly code = 'STREAMLANE_K8S_POD_SPEC'
}

/** Looks up what the agent needs from the API while resolving: a Secret's or ConfigMap's data. */
export interface ObjectSource {
  secretValue(namespace: string, name: string, key: string): Promise<string>
  configMapValue(namespace: string, name: string, key: string): Promise<string>
}

interface EnvVar {
  name: string
  value?: string
  valueFrom?: {
    fieldRef?: { fieldPath: string }
    secretKeyRef?: { name: string; key: string }
    configMapKeyRef?: { name: string; key: string }
  }
}

/** The image's name without registry host and tag: "registry.example/streamlane-scaler:0.1.0" -> "streamlane-scaler". */
export function imageName(image: string): string {
  const last = image.split('/').at(-1) ?? image
  return last.split('@')[0]!.split(':')[0]!
}

function fieldValue(pod: KubeObject, path: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default'
    case 'spec.nodeName':
      return pod.spec.nodeName
    case 'status.podIP':
    case 'status.hostIP':
      return '127.0.0.1'
    default:
      throw new PodSpecError(`pod ${pod.metadata.name}: fieldRef ${path} is not supported by the node agent`)
  }
}

/** Rewrites a path under one of the mounts to the same path under the mount's folder on this machine. */
export function hostPathOf(value: string, mounts: Map<string, string>): string {
  for (const [mountPath, hostDir] of [...mounts].sort((a, b) => b[0].length - a[0].length)) {
    if (value === mountPath) return hostDir
    if (value.startsWith(`${mountPath}/`)) return `${hostDir}${value.slice(mountPath.length)}`
  }
  return value
}

export async function resolveContainer(
  pod: KubeObject,
  // biome-ignore lint/suspicious/noExplicitAny: a core/v1 Container as the API returns it
  container: any,
  options: {
    images: Record<string, ContainerCommand>
    source: ObjectSource
    /** mountPath -> folder on this machine. */
    mounts: Map<string, string>
    /** Gives a free port on 127.0.0.1 for a declared port that is taken. */
    portFor: (declared: number) => Promise<number>
  }
): Promise<ResolvedContainer> {
  const namespace = pod.metadata.namespace ?? 'default'
  const entry = options.images[imageName(container.image)]
  if (!entry) {
    const known = Object.keys(options.images).join(', ')
    throw new PodSpecError(`pod ${pod.metadata.name}: no command known for image ${container.image} (known: ${known})`)
  }
  if (container.command?.length) {
    throw new PodSpecError(
      `pod ${pod.metadata.name}: a container command (not the image's entrypoint) is not supported`
    )
  }
  if (container.envFrom?.length) {
    throw new PodSpecError(`pod ${pod.metadata.name}: envFrom is not supported by the node agent`)
  }
  const ports = new Map<number, number>()
  const namedPorts = new Map<string, number>()
  for (const port of container.ports ?? []) {
    const local = await options.portFor(port.containerPort)
    ports.set(port.containerPort, local)
    if (port.name) namedPorts.set(port.name, local)
  }
  const env: Record<string, string> = {}
  for (const variable of (container.env ?? []) as EnvVar[]) {
    let value = variable.value ?? ''
    const from = variable.valueFrom
    if (from?.fieldRef) value = fieldValue(pod, from.fieldRef.fieldPath)
    else if (from?.secretKeyRef)
      value = await options.source.secretValue(namespace, from.secretKeyRef.name, from.secretKeyRef.key)
    else if (from?.configMapKeyRef)
      value = await options.source.configMapValue(namespace, from.configMapKeyRef.name, from.configMapKeyRef.key)
    else if (from) throw new PodSpecError(`pod ${pod.metadata.name}: env ${variable.name}: unsupported valueFrom`)
    const asPort = /^\d+$/.test(value) ? ports.get(Number(value)) : undefined
    env[variable.name] = asPort !== undefined ? String(asPort) : hostPathOf(value, options.mounts)
  }
  const args = (container.args as string[] | undefined) ?? entry.defaultArgs ?? []
  return {
    command: entry.command,
    args: [...entry.args, ...args].map((arg) => hostPathOf(arg, options.mounts)),
    env,
    ports,
    namedPorts
  }
}
