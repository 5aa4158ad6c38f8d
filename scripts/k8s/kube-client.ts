/**
 * A small client of the local API server (JSON over HTTPS with the admin client certificate): enough for the
 * cluster scripts and the node agent to create, read, list, patch and delete objects. Kubernetes' own clients are Go;
 * this keeps the tests in TypeScript without a client library.
 */
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import type { Pki } from './pki.ts'

export class KubeApiError extends Error {
  readonly code = 'STREAMLANE_K8S_API'
  readonly status: number
  constructor(message: string, status: number) {
    super(message)
    this.status = status
  }
}

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    deletionTimestamp?: string
    deletionGracePeriodSeconds?: number
    creationTimestamp?: string
    resourceVersion?: string
    ownerReferences?: unknown[]
  }
  // biome-ignore lint/suspicious/noExplicitAny: objects of every kind pass through here; callers narrow them.
  spec?: any
  // biome-ignore lint/suspicious/noExplicitAny: as above
  status?: any
  // biome-ignore lint/suspicious/noExplicitAny: as above
  [field: string]: any
}

function parseBody(text: string): unknown {
  if (!text) return {}
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class KubeClient {
  readonly #agent: Agent
  readonly #server: URL

  constructor(server: string, pki: Pki) {
    this.#server = new URL(server)
    this.#agent = new Agent({
      ca: readFileSync(pki.caCert),
      cert: readFileSync(pki.adminCert),
      key: readFileSync(pki.adminKey),
      keepAlive: true
    })
  }

  /** Sends one request; resolves the parsed body, rejects with KubeApiError (naming method, path and status). */
  async call<T = KubeObject>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json'
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: this.#server.hostname,
          port: this.#server.port,
          path,
          method,
          agent: this.#agent,
          // Content-Length always with a body: Node sends a DELETE's body neither chunked nor sized otherwise, and
          // the server would read it as the next request on the kept-alive connection.
          headers: {
            accept: 'application/json',
            ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {})
          },
          timeout: 30_000
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => {
            const status = res.statusCode ?? 0
            // Health paths (/readyz, /healthz) answer plain text: resolved as it is.
            if (status >= 200 && status < 300) return resolve(parseBody(text) as T)
            let message = text
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text
            } catch {}
            reject(new KubeApiError(`${method} ${path}: ${status} ${message}`, status))
          })
        }
      )
      req.once('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)))
      req.once('error', reject)
      req.end(payload)
    })
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.call<T>('GET', path)
  }

  async list(path: string): Promise<KubeObject[]> {
    return (await this.call<{ items: KubeObject[] }>('GET', path)).items
  }

  create(path: string, object: unknown): Promise<KubeObject> {
    return this.call('POST', path, object)
  }

  /** A JSON merge patch (RFC 7386), optionally on a subresource path such as .../status. */
  mergePatch(path: string, patch: unknown): Promise<KubeObject> {
    return this.call('PATCH', path, patch, 'application/merge-patch+json')
  }

  /** Server-side apply as `manager` (creates or updates, forcing conflicts: the scripts own what they apply). */
  apply(path: string, object: unknown, manager = 'streamlane-local'): Promise<KubeObject> {
    const query = `?fieldManager=${manager}&force=true`
    return this.call('PATCH', `${path}${query}`, object, 'application/apply-patch+yaml')
  }

  async delete(path: string, body?: unknown): Promise<void> {
    try {
      await this.call('DELETE', path, body)
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error
    }
  }

  close(): void {
    this.#agent.destroy()
  }
}

const CORE_GROUPS: Record<string, string> = { v1: '/api/v1' }

/** Plural resource names of the kinds the scripts and tests handle (no discovery: a short fixed list). */
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  Service: 'services',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  ServiceAccount: 'serviceaccounts',
  Pod: 'pods',
  Node: 'nodes',
  PersistentVolume: 'persistentvolumes',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  StatefulSet: 'statefulsets',
  Deployment: 'deployments',
  PodDisruptionBudget: 'poddisruptionbudgets',
  NetworkPolicy: 'networkpolicies',
  StorageClass: 'storageclasses',
  CustomResourceDefinition: 'customresourcedefinitions',
  APIService: 'apiservices',
  ScaledObject: 'scaledobjects',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers'
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'APIService'
])

/** The REST path of an object (with its name) from its apiVersion, kind, namespace and name. */
export function objectPath(object: KubeObject): string {
  const { apiVersion, kind } = object
  if (!apiVersion || !kind) throw new KubeApiError(`object ${object.metadata?.name} has no apiVersion or kind`, 0)
  const plural = PLURALS[kind]
  if (!plural) throw new KubeApiError(`no REST path known for kind ${kind} (scripts/k8s/kube-client.ts)`, 0)
  const prefix = CORE_GROUPS[apiVersion] ?? `/apis/${apiVersion}`
  const namespace = CLUSTER_SCOPED.has(kind) ? '' : `/namespaces/${object.metadata.namespace ?? 'default'}`
  return `${prefix}${namespace}/${plural}/${object.metadata.name}`
}
