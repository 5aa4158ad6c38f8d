/**
 * Streamlane's layer map as rules (docs/development.md explains them; the design notes hold the same table). Run by
 * `npm run lint` and by `npm test`'s lint step: `depcruise src`.
 *
 * The table itself (`mayImport`, `shared`) is in scripts/layer-map.ts.
 */
import { mayImport, shared } from './scripts/layer-map.ts'

const sharedPath = `^src/(${shared.join('|')})\\.ts$`

const layerRules = Object.entries(mayImport).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  comment: `src/${folder}/ may import only ${allowed.length ? allowed.map((f) => `src/${f}/`).join(', ') : 'itself'} (and the shared ${shared.join(', ')})`,
  severity: 'error',
  from: { path: `^src/${folder}/` },
  to: { path: '^src/', pathNot: [`^src/(${[folder, ...allowed].join('|')})/`, sharedPath] }
}))

export default {
  forbidden: [
    ...layerRules,
    {
      name: 'shared-stays-at-the-bottom',
      comment: 'the shared modules at the root of src/ import no folder (every folder imports them)',
      severity: 'error',
      from: { path: sharedPath },
      to: { path: '^src/[^/]+/' }
    },
    {
      name: 'unknown-folder',
      comment: 'every folder of src/ has a row in the layer map (.dependency-cruiser.mjs and docs/development.md)',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `^src/(${Object.keys(mayImport).join('|')})/` },
      to: {}
    },
    {
      name: 'enter-through-index',
      comment: "a folder is entered through its index.ts: another folder's modules are imported from its index.ts",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '/index\\.ts$'] }
    },
    {
      name: 'root-through-index',
      comment: "src/index.ts (the package's entry) takes each folder's exports from the folder's index.ts",
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/[^/]+/', pathNot: '/index\\.ts$' }
    },
    {
      name: 'no-folder-cycles',
      comment: 'no import cycles between folders',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/', pathNot: '^src/$1/', circular: true }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // @swc/core parses TypeScript here: typescript 7's compiler has no JavaScript API for dependency-cruiser yet. swc
    // sees the source as written, so type-only imports count too (a type is as much a dependency as a value is).
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
