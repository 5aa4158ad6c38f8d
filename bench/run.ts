/**
 * `npm run bench [-- <name>...]`: Streamlane's benchmarks, each a module in bench/ that measures Streamlane next to
 * a reference in the same run. One broker (ours, or KAFKA_BROKERS) serves them all; each writes its own results
 * file. Add a benchmark by writing `bench/<name>.ts` exporting a `Benchmark` and listing it below.
 */

import { asyncIo } from './async-io.ts'
import { exactlyOnce } from './exactly-once.ts'
import { handover } from './handover.ts'
import { joins } from './joins.ts'
import { type BenchArgs, parseBenchArgs } from './lib/args.ts'
import { createBenchContext } from './lib/bench-context.ts'
import type { Benchmark } from './lib/benchmark.ts'
import { writeResults } from './lib/report.ts'
import { peer } from './peer.ts'
import { queries } from './queries.ts'
import { restoration } from './restoration.ts'
import { shareGroups } from './share-groups.ts'
import { standbyUpkeep } from './standby-upkeep.ts'
import { stateful } from './stateful.ts'
import { stateless } from './stateless.ts'

const benchmarks: Benchmark[] = [
  stateless,
  stateful,
  restoration,
  exactlyOnce,
  asyncIo,
  queries,
  handover,
  joins,
  shareGroups,
  peer,
  standbyUpkeep
]

let args: BenchArgs
try {
  args = parseBenchArgs(process.argv.slice(2))
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}
const wanted = args.names
const unknown = wanted.filter((name) => !benchmarks.some((b) => b.name === name))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; there are:`)
  for (const b of benchmarks) console.error(`  ${b.name.padEnd(12)} ${b.description}`)
  process.exit(2)
}
const selected = wanted.length > 0 ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks

// Four minutes per benchmark for quiet waits and retries; a benchmark in progress is never cut short.
const ctx = await createBenchContext({ budgetMs: 240_000 * selected.length })
try {
  for (const benchmark of selected) {
    ctx.log(`${benchmark.name}: ${benchmark.description}`)
    const report = await benchmark.run(ctx, args)
    console.log(`\n## ${report.title}\n`)
    for (const table of report.tables) console.log(`${table.markdown}\n`)
    const path = writeResults(benchmark.resultsFile, { ...report, brokerDescription: ctx.brokerDescription })
    ctx.log(`wrote ${path}`)
  }
} finally {
  await ctx.close()
}
