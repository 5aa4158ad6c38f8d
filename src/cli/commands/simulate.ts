import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import {
  acceptanceRows,
  acceptanceTable,
  acceptanceTraces,
  BUILT_IN_TRACES,
  builtInTrace,
  compareControllers,
  DEFAULT_SCENARIO,
  defaultComparisonSettings,
  isBuiltInTrace,
  type LoadTrace,
  parseCsvTrace,
  SimulationInputError,
  summaryMarkdown,
  type TraceReport,
  traceReport,
  withStandbyCost
} from '../../autoscale/simulator/index.ts'

interface SimulateOptions {
  trace: string[]
  out: string
  seed: string
  lagThreshold?: string
  explain?: boolean
  seeds?: string
  standbyCost?: string
}

/**
 * `streamlane simulate`: replays load traces against KEDA's Kafka scaler and Streamlane's policy, prints a table per
 * trace and writes an SVG chart per trace plus README.md into --out. All the modelling is in
 * src/autoscale/simulator/ (pure); this file only reads the CSV, writes the files and prints.
 */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description("compare Streamlane's scaling policy with KEDA's Kafka scaler on load traces")
    .option(
      '--trace <trace>',
      `${BUILT_IN_TRACES.join(' | ')} | a CSV file of second,records_per_second (repeatable; default: all built-in)`,
      (value: string, previous: string[]) => [...previous, value],
      []
    )
    .option('--out <dir>', 'where to write the SVG charts and README.md', 'docs/simulator')
    .option('--seed <n>', 'seed for the randomized traces (diurnal noise, bursty)', '42')
    .option('--lag-threshold <n>', "KEDA's lagThreshold (default: capacity x commit interval / 2)")
    .option('--explain', "print every decision of Streamlane's policy with its reason")
    .option(
      '--standby-cost <fraction>',
      `keeping a standby copy current, as a fraction of processing its partition (default ${DEFAULT_SCENARIO.standbyCostFraction}; bench/results/standby-upkeep.md measures it)`
    )
    .option(
      '--seeds <n>',
      'also check the bars on every built-in trace, the randomized ones with n seeds from --seed, and print the table'
    )
    .action(async (options: SimulateOptions) => {
      await simulate(options)
    })
}

async function simulate(options: SimulateOptions): Promise<void> {
  const seed = wholeNumber('--seed', options.seed)
  const lagThreshold =
    options.lagThreshold === undefined ? undefined : wholeNumber('--lag-threshold', options.lagThreshold)
  if (lagThreshold === 0) throw new SimulationInputError('--lag-threshold', 'must be at least 1')
  const scenario =
    options.standbyCost === undefined ? undefined : withStandbyCost(Number(options.standbyCost), '--standby-cost')
  const names = options.trace.length > 0 ? options.trace : [...BUILT_IN_TRACES]
  const traces: LoadTrace[] = []
  for (const name of names) traces.push(await loadTrace(name, seed))

  const reports: TraceReport[] = []
  let last: ReturnType<typeof compareControllers> | undefined
  for (const trace of traces) {
    const settings = defaultComparisonSettings(scenario, lagThreshold === undefined ? {} : { lagThreshold })
    if (options.explain) {
      settings.streamlane.onDecision = (t, decision) => {
        process.stdout.write(`${trace.name} t=${t}s replicas=${decision.replicas}: ${decision.reason}\n`)
      }
    }
    last = compareControllers(trace, settings)
    const report = traceReport(last)
    reports.push(report)
    process.stdout.write(`\n${trace.name}: ${trace.description}\n\n${report.table}\n\n${report.verdict.text}\n`)
  }
  if (!last) return
  await mkdir(options.out, { recursive: true })
  for (const report of reports) await writeFile(join(options.out, report.svgFile), report.svg)
  const command = ['streamlane simulate', ...process.argv.slice(3)].join(' ')
  let acceptance: string | undefined
  if (options.seeds !== undefined) {
    const seeds = wholeNumber('--seeds', options.seeds)
    if (seeds === 0) throw new SimulationInputError('--seeds', 'must be at least 1')
    const traces = acceptanceTraces(BUILT_IN_TRACES, seed, seeds)
    acceptance = acceptanceTable(
      acceptanceRows(traces, () =>
        defaultComparisonSettings(scenario, lagThreshold === undefined ? {} : { lagThreshold })
      )
    )
    process.stdout.write(`\nevery trace, ${seeds} seed(s) for the randomized ones:\n\n${acceptance}\n`)
  }
  await writeFile(join(options.out, 'README.md'), summaryMarkdown(reports, last, command, acceptance))
  process.stdout.write(`\nwrote ${reports.map((r) => r.svgFile).join(', ')} and README.md to ${options.out}\n`)
}

async function loadTrace(name: string, seed: number): Promise<LoadTrace> {
  if (isBuiltInTrace(name)) return builtInTrace(name, seed)
  if (!name.toLowerCase().endsWith('.csv')) {
    throw new SimulationInputError('--trace', `"${name}" is neither ${BUILT_IN_TRACES.join(', ')} nor a .csv file`)
  }
  let text: string
  try {
    text = await readFile(name, 'utf8')
  } catch (error) {
    throw new SimulationInputError('--trace', `cannot read ${name}: ${(error as Error).message}`)
  }
  return parseCsvTrace(text, name)
}

function wholeNumber(option: string, raw: string): number {
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0)
    throw new SimulationInputError(option, `"${raw}" is not a whole number >= 0`)
  return value
}
