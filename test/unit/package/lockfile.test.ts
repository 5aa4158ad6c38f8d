/**
 * `npm ci` checks the lockfile against every optional dependency of every locked package, whatever the platform:
 * a lockfile written on Linux by an npm that leaves out macOS or Windows binaries (npm/cli#9846) makes `npm ci`
 * fail on a fresh clone elsewhere ("Missing: @biomejs/cli-darwin-arm64 ... from lock file"). This keeps it complete.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

interface LockedPackage {
  version?: string
  optionalDependencies?: Record<string, string>
}

const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, LockedPackage>
}

/** Node's lookup: `<dir>/node_modules/<name>`, then each enclosing node_modules up to the root. */
function resolveLocked(from: string, name: string): LockedPackage | undefined {
  let dir = from
  for (;;) {
    const found = lock.packages[dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`]
    if (found) return found
    if (dir === '') return undefined
    const cut = dir.lastIndexOf('/node_modules/')
    dir = cut === -1 ? '' : dir.slice(0, cut)
  }
}

test('every optional (platform) dependency of every locked package is in the lockfile', () => {
  const missing: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolveLocked(path, name)) missing.push(`${name} (wanted by ${path || 'the project'})`)
    }
  }
  assert.deepEqual(
    missing,
    [],
    'regenerate the missing entries: copy them from `npm install --package-lock-only` run without a lockfile'
  )
})
