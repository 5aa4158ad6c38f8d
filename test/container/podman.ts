/**
 * The podman command line as the container tests use it on a machine without a Docker engine: rootful podman from
 * Debian with the flags these machines need (runc, since crun refuses cgroups in hybrid mode; cgroupfs; limits
 * lowered explicitly, since keeping the host's is refused; the host network, the broker being on 127.0.0.1).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'

/** Global flags first, then the subcommand's own. */
export const PODMAN_GLOBAL_FLAGS = ['--runtime', 'runc', '--cgroup-manager=cgroupfs']
/** For `podman build` and `podman run`. */
export const PODMAN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024']

export const MISSING_PODMAN =
  'podman is not installed: the container tests need it (as root: apt-get install -y podman runc mmdebstrap; .ci/run does this)'

export class PodmanError extends Error {}

/** Runs `podman <args>` to completion; rejects with its stderr when it exits non-zero. */
export function podman(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'podman',
      [...PODMAN_GLOBAL_FLAGS, ...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout)
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new PodmanError(MISSING_PODMAN))
        reject(new PodmanError(`podman ${args.join(' ')} failed: ${stderr.trim() || error.message}`))
      }
    )
  })
}

/** Runs a long podman command (a build) with its output passed through, so progress shows in the test log. */
export function podmanStreaming(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', [...PODMAN_GLOBAL_FLAGS, ...args], { cwd, stdio: ['ignore', 'inherit', 'inherit'] })
    child.once('error', (error) =>
      reject((error as NodeJS.ErrnoException).code === 'ENOENT' ? new PodmanError(MISSING_PODMAN) : error)
    )
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new PodmanError(`podman ${args.join(' ')} exited with ${code}`))
    )
  })
}

/** Starts `podman <args>` without waiting (a foreground `podman run`: its stderr is the container's). */
export function podmanChild(args: string[]): ChildProcess {
  return spawn('podman', [...PODMAN_GLOBAL_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

export async function imageExists(name: string): Promise<boolean> {
  try {
    await podman(['image', 'exists', name])
    return true
  } catch (error) {
    if (error instanceof PodmanError && error.message === MISSING_PODMAN) throw error
    return false
  }
}

/** Removes containers and volumes whether or not they exist (cleanup after a test, failed or not). */
export async function removeContainers(names: string[]): Promise<void> {
  if (names.length > 0) await podman(['rm', '-f', '--ignore', ...names])
}

export async function removeVolumes(names: string[]): Promise<void> {
  for (const name of names) await podman(['volume', 'rm', '-f', name]).catch(() => undefined)
}
