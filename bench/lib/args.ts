/**
 * `npm run bench [-- <name>...] [--workload <w>[,<w>]...] [--order streamlane-first|kafka-streams-first|both]
 * [--scenarios <s>[,<s>]...] [--modes <m>[,<m>]...]`: benchmark names, and the options some benchmarks read (the peer
 * benchmark: which workloads, in which order; the handover benchmark: which scenarios and modes).
 */

export type RunOrder = 'streamlane-first' | 'kafka-streams-first' | 'both'

export interface BenchArgs {
  names: string[]
  /** Empty: every workload. */
  workloads: string[]
  order: RunOrder
  /** Empty: every scenario (the handover benchmark's pod-loss, scale-in, scale-out). */
  scenarios: string[]
  /** Empty: every mode (the handover benchmark's ha, none). */
  modes: string[]
}

/** Options that take a comma-separated list, each collected into its field. */
const LISTS = { '--workload': 'workloads', '--scenarios': 'scenarios', '--modes': 'modes' } as const

const ORDERS: readonly RunOrder[] = ['streamlane-first', 'kafka-streams-first', 'both']

/** Parses the arguments after the script; throws on an unknown option or a missing / bad value. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { names: [], workloads: [], order: 'streamlane-first', scenarios: [], modes: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('-')) {
      args.names.push(arg)
      continue
    }
    const [option, inline] = arg.split('=', 2) as [string, string | undefined]
    const value = inline ?? argv[++i]
    const list = LISTS[option as keyof typeof LISTS]
    if (!list && option !== '--order') throw new Error(`unknown option ${option}`)
    if (value === undefined || value.startsWith('-')) throw new Error(`${option} needs a value`)
    if (list) args[list].push(...value.split(',').filter((w) => w !== ''))
    else if (ORDERS.includes(value as RunOrder)) args.order = value as RunOrder
    else throw new Error(`--order must be one of ${ORDERS.join(', ')}, got ${value}`)
  }
  return args
}
