/**
 * The shape of one Streamlane benchmark (`bench/<name>.ts`), run by `npm run bench [-- <name>...]`. Each measures
 * Streamlane next to a reference in the same run (the raw Kafka client, Kafka's tools) and reports ratios; the
 * runner prints the tables and writes `bench/results/<resultsFile>` with the command that made it.
 */
import type { BenchArgs } from './args.ts'
import type { BenchContext } from './bench-context.ts'

/** The command line's options, for the benchmarks that read them (the peer benchmark). */
export type BenchOptions = Omit<BenchArgs, 'names'>

export interface BenchmarkReport {
  title: string
  /** Paragraphs above the tables: what was measured and how. */
  summary: string[]
  tables: { heading: string; markdown: string }[]
  notes: string[]
}

export interface Benchmark {
  /** What `npm run bench -- <name>` selects. */
  name: string
  description: string
  /** File name in bench/results/. */
  resultsFile: string
  run(ctx: BenchContext, options?: BenchOptions): Promise<BenchmarkReport>
}
