/**
 * The local cluster's node agent: it plays the kubelet's part for the tests (docs/kubernetes-local.md). It registers
 * one Node (Ready, no heartbeat), provisions a host folder for every claim of the `local` StorageClass (the default
 * one), and runs each pod scheduled to its Node as a local process (pod-process.ts) on the host network:
 * - status back to the API server: phase, 127.0.0.1 as host and pod IP, Ready/ContainersReady from the readiness
 *   probe, the container's state and restart count;
 * - restartPolicy Always: a process that exits, or fails its liveness probe, is started again (restartCount + 1);
 * - deletion: SIGTERM, SIGKILL after the pod's grace period, then the pod object is removed (as a kubelet does).
 * What it does not do: images (a table maps each image to the command of its entrypoint), mounts (paths are
 * rewritten), resource limits, security contexts, exec/logs through the API, more than one container per pod.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import type { KubeClient, KubeObject } from '../../../scripts/k8s/kube-client.ts'
import { killOnExit } from '../../../scripts/k8s/processes.ts'
import { freePort, repoRoot } from '../../../scripts/kafka/broker.ts'
import { type ContainerCommand, type ResolvedContainer, resolveContainer } from './pod-process.ts'
import { type HttpProbe, probePort, runHttpProbe } from './probes.ts'
import { provisionClaims, STORAGE_CLASS, storageClass, volumeFolder } from './volumes.ts'

export interface NodeAgentOptions {
  client: KubeClient
  /** Pods' folders (volumes, logs) and provisioned volumes go here. */
  dir: string
  images: Record<string, ContainerCommand>
  nodeName?: string
  log?: (line: string) => void
}

export interface NodeAgent {
  nodeName: string
  /** The log file of a pod's process (all its restarts), by pod name. */
  logFile(podName: string): string
  stop(): Promise<void>
}

interface RunningPod {
  pod: KubeObject
  container: ResolvedContainer
  child?: ChildProcess
  exited?: Promise<void>
  restartCount: number
  ready: boolean
  startedAt: string
  terminating: boolean
  timers: NodeJS.Timeout[]
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

export async function startNodeAgent(options: NodeAgentOptions): Promise<NodeAgent> {
  const { client } = options
  const nodeName = options.nodeName ?? 'local-node'
  const log = options.log ?? (() => {})
  const podsDir = join(options.dir, 'pods')
  mkdirSync(podsDir, { recursive: true })
  const running = new Map<string, RunningPod>()
  /** uids of pods being started or finalized, so a slow step is not begun twice. */
  const busy = new Set<string>()
  const portsInUse = new Set<number>()
  let stopped = false

  await client.apply(`/apis/storage.k8s.io/v1/storageclasses/${STORAGE_CLASS}`, storageClass())
  await client.apply(`/api/v1/nodes/${nodeName}`, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': 'local'
      }
    }
  })
  const now = new Date().toISOString()
  const capacity = { cpu: '64', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' }
  await client.mergePatch(`/api/v1/nodes/${nodeName}/status`, {
    status: {
      capacity,
      allocatable: capacity,
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: nodeName }
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'NodeAgentReady', lastHeartbeatTime: now, lastTransitionTime: now }
      ]
    }
  })

  // The API server's admission taints a new Node not-ready (NoSchedule); the node lifecycle controller would lift it
  // once the Node is Ready, but it is off here (scripts/k8s/control-plane.ts), so the agent lifts it itself.
  await client.mergePatch(`/api/v1/nodes/${nodeName}`, { spec: { taints: null } })

  const logFile = (podName: string) => join(podsDir, `${podName}.log`)

  async function portFor(declared: number): Promise<number> {
    const port = !portsInUse.has(declared) && (await isFree(declared)) ? declared : await freePort()
    portsInUse.add(port)
    return port
  }

  async function patchStatus(entry: RunningPod): Promise<void> {
    const { pod } = entry
    const at = new Date().toISOString()
    const ready = entry.ready ? 'True' : 'False'
    const name = pod.spec.containers[0].name
    await client
      .call(
        'PATCH',
        `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
        {
          status: {
            phase: 'Running',
            hostIP: '127.0.0.1',
            hostIPs: [{ ip: '127.0.0.1' }],
            podIP: '127.0.0.1',
            podIPs: [{ ip: '127.0.0.1' }],
            startTime: entry.startedAt,
            conditions: [
              { type: 'Initialized', status: 'True', lastTransitionTime: entry.startedAt },
              { type: 'ContainersReady', status: ready, lastTransitionTime: at },
              { type: 'Ready', status: ready, lastTransitionTime: at }
            ],
            containerStatuses: [
              {
                name,
                image: pod.spec.containers[0].image,
                imageID: '',
                ready: entry.ready,
                started: entry.child !== undefined,
                restartCount: entry.restartCount,
                state: entry.child ? { running: { startedAt: at } } : { waiting: { reason: 'ContainerCreating' } }
              }
            ]
          }
        },
        'application/strategic-merge-patch+json'
      )
      .catch((error: Error) => log(`status of ${pod.metadata.name} not updated: ${error.message}`))
  }

  function launch(entry: RunningPod): void {
    const { container, pod } = entry
    const fd = openSync(logFile(pod.metadata.name), 'a')
    const child = spawn(container.command, container.args, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...container.env },
      stdio: ['ignore', fd, fd]
    })
    closeSync(fd)
    killOnExit(child)
    entry.child = child
    entry.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        entry.child = undefined
        entry.ready = false
        if (!entry.terminating && !stopped) {
          entry.restartCount += 1
          log(`pod ${pod.metadata.name} exited (${signal ?? code}); restart ${entry.restartCount}`)
          void patchStatus(entry)
          setTimeout(() => !entry.terminating && !stopped && launch(entry), Math.min(10_000, 1000 * entry.restartCount))
        }
        resolve()
      })
    )
    void patchStatus(entry)
  }

  function watchProbe(entry: RunningPod, probe: HttpProbe | undefined, onResult: (ok: boolean) => void): void {
    if (!probe) return
    const port = probePort(probe, entry.container.namedPorts, entry.container.ports)
    const tick = async () => {
      if (entry.terminating || stopped) return
      if (entry.child) onResult(await runHttpProbe(probe, port))
      entry.timers.push(setTimeout(tick, (probe.periodSeconds ?? 10) * 1000))
    }
    entry.timers.push(setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000))
  }

  async function start(pod: KubeObject): Promise<void> {
    const spec = pod.spec
    if (spec.containers.length !== 1 || spec.initContainers?.length) {
      throw new Error(`pod ${pod.metadata.name}: the node agent runs pods of exactly one container, no init containers`)
    }
    const podDir = join(podsDir, pod.metadata.uid!)
    const mounts = new Map<string, string>()
    for (const mount of spec.containers[0].volumeMounts ?? []) {
      const volume = (spec.volumes ?? []).find((v: { name: string }) => v.name === mount.name)
      mounts.set(mount.mountPath, await volumeFolder(client, pod, volume, podDir))
    }
    const source = {
      async secretValue(namespace: string, name: string, key: string) {
        const secret = await client.get(`/api/v1/namespaces/${namespace}/secrets/${name}`)
        return Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8')
      },
      async configMapValue(namespace: string, name: string, key: string) {
        return (await client.get(`/api/v1/namespaces/${namespace}/configmaps/${name}`)).data?.[key] ?? ''
      }
    }
    const container = await resolveContainer(pod, spec.containers[0], {
      images: options.images,
      source,
      mounts,
      portFor
    })
    writeFileSync(
      join(podDir, 'container.json'),
      `${JSON.stringify({ ...container, ports: [...container.ports] }, null, 2)}\n`
    )
    const entry: RunningPod = {
      pod,
      container,
      restartCount: 0,
      ready: false,
      startedAt: new Date().toISOString(),
      terminating: false,
      timers: []
    }
    running.set(pod.metadata.uid!, entry)
    log(`pod ${pod.metadata.name}: ${container.command} ${container.args.join(' ')}`)
    launch(entry)
    const readiness = spec.containers[0].readinessProbe as HttpProbe | undefined
    if (!readiness) entry.ready = true
    let failures = 0
    watchProbe(entry, readiness, (ok) => {
      failures = ok ? 0 : failures + 1
      const ready = ok ? true : failures >= (readiness?.failureThreshold ?? 3) ? false : entry.ready
      if (ready !== entry.ready) {
        entry.ready = ready
        log(`pod ${pod.metadata.name} ${ready ? 'ready' : 'not ready'}`)
        void patchStatus(entry)
      }
    })
    const liveness = spec.containers[0].livenessProbe as HttpProbe | undefined
    let livenessFailures = 0
    watchProbe(entry, liveness, (ok) => {
      livenessFailures = ok ? 0 : livenessFailures + 1
      if (livenessFailures >= (liveness?.failureThreshold ?? 3)) {
        livenessFailures = 0
        log(`pod ${pod.metadata.name} failed its liveness probe: restarting it`)
        entry.child?.kill('SIGKILL')
      }
    })
  }

  /** SIGTERM, then SIGKILL after `graceSeconds`; resolves once the process is gone. */
  async function terminate(entry: RunningPod, graceSeconds: number): Promise<void> {
    entry.terminating = true
    for (const timer of entry.timers) clearTimeout(timer)
    const child = entry.child
    if (child && entry.exited) {
      child.kill('SIGTERM')
      const done = await Promise.race([entry.exited.then(() => true), delay(graceSeconds * 1000).then(() => false)])
      if (!done) {
        log(`pod ${entry.pod.metadata.name} outlived its grace period of ${graceSeconds} s: SIGKILL`)
        child.kill('SIGKILL')
        await entry.exited
      }
    }
    for (const port of entry.container.ports.values()) portsInUse.delete(port)
  }

  async function finalize(pod: KubeObject): Promise<void> {
    const entry = running.get(pod.metadata.uid!)
    if (entry) {
      log(`pod ${pod.metadata.name} deleted: stopping it (grace ${pod.metadata.deletionGracePeriodSeconds ?? 30} s)`)
      await terminate(entry, pod.metadata.deletionGracePeriodSeconds ?? 30)
      running.delete(pod.metadata.uid!)
    }
    await client.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: pod.metadata.uid }
    })
  }

  function once(uid: string, work: () => Promise<void>, what: string): void {
    if (busy.has(uid)) return
    busy.add(uid)
    work()
      .catch((error: Error) => log(`${what}: ${error.message}`))
      .finally(() => busy.delete(uid))
  }

  async function sync(): Promise<void> {
    await provisionClaims(client, join(options.dir, 'volumes'), log)
    const pods = await client.list(`/api/v1/pods?fieldSelector=spec.nodeName%3D${nodeName}`)
    const seen = new Set<string>()
    for (const pod of pods) {
      const uid = pod.metadata.uid!
      seen.add(uid)
      if (pod.metadata.deletionTimestamp) once(uid, () => finalize(pod), `deleting pod ${pod.metadata.name}`)
      else if (!running.has(uid) && !['Succeeded', 'Failed'].includes(pod.status?.phase)) {
        once(uid, () => start(pod), `starting pod ${pod.metadata.name}`)
      }
    }
    for (const [uid, entry] of running) {
      if (seen.has(uid) || busy.has(uid)) continue
      running.delete(uid)
      void terminate(entry, 0)
    }
  }

  const loop = (async () => {
    while (!stopped) {
      await sync().catch((error: Error) => log(`node agent sync: ${error.message}`))
      await delay(500)
    }
  })()

  return {
    nodeName,
    logFile,
    async stop() {
      stopped = true
      await loop
      await Promise.all([...running.values()].map((entry) => terminate(entry, 10)))
      running.clear()
    }
  }
}
