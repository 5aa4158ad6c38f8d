/**
 * `npm run build` (and `npm pack` / `npm publish` through `prepack`): compiles src/ into a fresh dist/ and copies the
 * files the code reads at run time that tsc does not emit (the KEDA external scaler's .proto) to the same place under
 * dist/, so the installed package finds them. dist/ is emptied first: a file deleted from src/ must not ship.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { dirname, extname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const dist = join(root, 'dist')
const ASSET_EXTENSIONS = new Set(['.proto'])

rmSync(dist, { recursive: true, force: true })
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit'
})
const copied: string[] = []
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !ASSET_EXTENSIONS.has(extname(entry.name))) continue
  const path = relative(src, join(entry.parentPath, entry.name))
  cpSync(join(src, path), join(dist, path))
  copied.push(path)
}
process.stdout.write(`built dist/; copied ${copied.join(', ')}\n`)
