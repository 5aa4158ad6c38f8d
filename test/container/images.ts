/**
 * Images for the container tests, built on this machine: no public image registry is reachable, so the Node 24 base
 * that users get from `node:24-bookworm-slim` is made here from Debian packages (mmdebstrap) plus the Node binary of
 * the npm `node` package, the npm that runs the tests and the host's trusted CAs. Base images are cached in podman's store under a tag
 * naming their contents, so only the first run on a machine pays for them (about a minute).
 */
import { execFile } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from '../../scripts/kafka/broker.ts'
import { imageExists, PODMAN_LIMITS, podman, podmanStreaming } from './podman.ts'

const run = promisify(execFile)

const DEBIAN_IMAGE = 'localhost/streamlane-debian:bookworm'
/** Debian's bundle of trusted CAs (ca-certificates), the host's own additions included. */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'

/** The Node version the project pins (devDependency `node`), whose binary goes into the base image. */
function pinnedNode(): { version: string; binary: string } {
  const nodePackage = join(repoRoot, 'node_modules', 'node')
  const { version } = JSON.parse(readFileSync(join(nodePackage, 'package.json'), 'utf8')) as { version: string }
  return { version, binary: realpathSync(join(nodePackage, 'bin', 'node')) }
}

/** A minimal Debian bookworm root file system as an image (Debian's packages, no registry). */
async function debianImage(): Promise<string> {
  if (await imageExists(DEBIAN_IMAGE)) return DEBIAN_IMAGE
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-debian-'))
  try {
    const tarball = join(dir, 'base.tar')
    console.log(`building ${DEBIAN_IMAGE} with mmdebstrap (about a minute)`)
    try {
      await run('mmdebstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', tarball], {
        maxBuffer: 64 * 1024 * 1024
      })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('mmdebstrap is not installed: as root, apt-get install -y podman runc mmdebstrap')
      }
      throw error
    }
    await podman(['import', tarball, DEBIAN_IMAGE], { timeoutMs: 300_000 })
    return DEBIAN_IMAGE
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The npm on the PATH (a self-contained package: bin/npm-cli.js resolves into it), for the image's `npm ci`. */
function npmPackageDir(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npm')
    if (!existsSync(candidate)) continue
    const packageDir = dirname(dirname(realpathSync(candidate)))
    if (existsSync(join(packageDir, 'bin', 'npm-cli.js'))) return packageDir
  }
  throw new Error('no npm on the PATH to put into the test base image (install Node.js with npm)')
}

/**
 * `localhost/streamlane-node:<version>`: Debian bookworm with Node and npm where the official node images have them
 * (/usr/local/bin), a stand-in for `node:24-bookworm-slim`.
 */
export async function nodeBaseImage(): Promise<string> {
  const node = pinnedNode()
  const image = `localhost/streamlane-node:${node.version}`
  if (await imageExists(image)) return image
  const debian = await debianImage()
  const context = mkdtempSync(join(tmpdir(), 'streamlane-node-image-'))
  try {
    copyFileSync(node.binary, join(context, 'node'))
    cpSync(npmPackageDir(), join(context, 'npm'), { recursive: true })
    copyFileSync(HOST_CA_BUNDLE, join(context, 'ca-certificates.crt'))
    writeFileSync(
      join(context, 'Containerfile'),
      [
        `FROM ${debian}`,
        'COPY node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        // The host's trust store, so the build's `npm ci` trusts what the host's npm trusts (a proxy's CA included).
        'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
        'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
        ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
        ' && node --version && npm --version',
        'CMD ["node"]',
        ''
      ].join('\n')
    )
    console.log(`building ${image} (Debian bookworm + Node ${node.version})`)
    await podmanStreaming(['build', '--network=none', ...PODMAN_LIMITS, '-t', image, '.'], context)
    return image
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}

/**
 * Streamlane's images from deploy/Dockerfile, built from this repository on the given base: the app base image
 * (`runtime`, what users put their module on) and the scaler's. The build's `npm ci` reaches the npm registry
 * (host network); podman's layer cache makes a rebuild with unchanged sources quick.
 */
export async function streamlaneImages(base: string): Promise<{ runtime: string; scaler: string }> {
  const images = { runtime: 'localhost/streamlane:test', scaler: 'localhost/streamlane-scaler:test' }
  for (const [target, tag] of [
    ['runtime', images.runtime],
    ['scaler', images.scaler]
  ] as const) {
    await podmanStreaming(
      [
        'build',
        '--network=host',
        ...PODMAN_LIMITS,
        '--build-arg',
        `BASE_IMAGE=${base}`,
        '--target',
        target,
        '-f',
        'deploy/Dockerfile',
        '-t',
        tag,
        '.'
      ],
      repoRoot
    )
  }
  return images
}

/** A user's app image the documented way: two lines on top of the runtime image, from a directory of its own. */
export async function appImage(runtime: string, tag: string, files: Record<string, string>): Promise<string> {
  const context = mkdtempSync(join(tmpdir(), 'streamlane-app-image-'))
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(context, name), text)
    writeFileSync(join(context, 'Dockerfile'), `FROM ${runtime}\nCOPY app.ts /app/app.ts\n`)
    await podmanStreaming(['build', '--network=none', ...PODMAN_LIMITS, '-t', tag, '.'], context)
    return tag
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}
