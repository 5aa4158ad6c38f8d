import type { Command } from 'commander'
import { readSecret } from '../../endpoint/index.ts'
import { ConfigError } from '../../errors.ts'
import { type KeyFormat, QueryClient } from '../../query/client/index.ts'
import type { StreamsConfig } from '../../runtime/index.ts'
import { loadAppModule } from '../app-module.ts'

interface QueryOptions {
  config?: string
  store: string
  key?: string
  all?: boolean
  windows?: boolean
  sessions?: boolean
  from?: string
  to?: string
  keyFormat: KeyFormat
  url?: string
  stale?: boolean
}

/** Bigints as exact JSON numbers, one JSON document per line. */
function print(value: unknown): void {
  const raw = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON
  process.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? raw(v.toString()) : v))}\n`)
}

/** The instance to ask: `--url`, else the app's applicationServer, else its metrics port on metricsHost. */
function endpointUrl(config: StreamsConfig, url: string | undefined): string {
  if (url) return url
  const scheme = config.metricsTlsCertFile ? 'https' : 'http'
  if (config.applicationServer) return `${scheme}://${config.applicationServer}`
  if (config.metricsPort) return `${scheme}://${config.metricsHost}:${config.metricsPort}`
  throw new ConfigError('applicationServer', 'set it (or pass --url): the query endpoint is on only when it is set')
}

/**
 * `streamlane query <module> --store S --key K`: asks a running instance of the app (any one: it forwards to the
 * owner) for a key's value, a store's entries, or a key's windows or sessions; prints JSON.
 */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description("read a running app's state store through its query endpoint (docs/interactive-queries.md)")
    .argument('<module>', 'path to the app module (.ts or .js): its configuration says where to ask')
    .requiredOption('--store <name>', 'the state store')
    .option('--key <key>', 'the key to read')
    .option('--all', 'every entry of a key-value store, one JSON line each')
    .option('--windows', "the key's windows (window store), with --from / --to in ms")
    .option('--sessions', "the key's sessions (session store)")
    .option('--from <ms>', 'windows starting at or after')
    .option('--to <ms>', 'windows starting at or before')
    .option('--stale', 'a standby copy may answer (enableStaleStores)')
    .option('--key-format <format>', 'how to read --key: string, long, int or json', 'string')
    .option('--url <url>', 'the instance or Service to ask (default: the app config applicationServer)')
    .option('-c, --config <file>', 'JSON file with configuration options (as for run)')
    .action(async (modulePath: string, options: QueryOptions) => {
      const { config } = await loadAppModule(modulePath, { configFile: options.config, withConfig: true })
      // The query endpoint's own token when the app has one, else the endpoint's.
      const token =
        readSecret('queryTokenFile', config!.queryToken, config!.queryTokenFile) ??
        readSecret('metricsTokenFile', config!.metricsToken, config!.metricsTokenFile)
      const client = new QueryClient({ url: endpointUrl(config!, options.url), token })
      const keyFormat = options.keyFormat
      const stale = options.stale
      if (options.all) {
        for await (const entry of client.range(options.store, { keyFormat })) print(entry)
        return
      }
      if (options.key === undefined) throw new ConfigError('--key', 'give --key (or --all)')
      if (options.windows) {
        const from = options.from === undefined ? undefined : Number(options.from)
        const to = options.to === undefined ? undefined : Number(options.to)
        print(await client.windows(options.store, options.key, { keyFormat, stale, from, to }))
      } else if (options.sessions) {
        print(await client.sessions(options.store, options.key, { keyFormat, stale }))
      } else {
        print(await client.get(options.store, options.key, { keyFormat, stale }))
      }
    })
}
