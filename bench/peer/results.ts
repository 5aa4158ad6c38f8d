/**
 * The peer benchmark's results accumulate over runs: one locked run measures a few workloads in one order (a full
 * run takes longer than a turn of the shared machine should), so every run merges its entries into
 * bench/results/peer.json (one per workload and order, the newest kept) and peer.md is rendered from all of them,
 * each row with its own date and command.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunOrder } from '../lib/args.ts'
import { resultsDir } from '../lib/report.ts'
import { type Cell, cpuMicrosPerRecord, fixed, integer, markdownTable, ratio } from '../lib/table.ts'
import { WORKLOADS } from './workloads.ts'

export interface AppSummary {
  seconds: number
  cpuSeconds: number
  brokerCpuSeconds: number | null
}

export interface SystemSummary {
  cold: AppSummary
  warm: AppSummary
  otherCores: number | null
  disturbed: boolean
  attempts: number
}

export interface PeerEntry {
  workload: string
  order: Exclude<RunOrder, 'both'>
  date: string
  command: string
  /** Input records (changelog records for the restore workload). */
  records: number
  streamlane: SystemSummary
  kafkaStreams: SystemSummary
  /** What the output check found. */
  outputs: string
  matched: boolean
}

const storeFile = () => join(resultsDir, 'peer.json')

export function loadEntries(): PeerEntry[] {
  return existsSync(storeFile()) ? (JSON.parse(readFileSync(storeFile(), 'utf8')) as PeerEntry[]) : []
}

const rank = (e: PeerEntry) =>
  WORKLOADS.findIndex((w) => w.name === e.workload) * 2 + (e.order === 'streamlane-first' ? 0 : 1)

/** `earlier` with `now`'s entries replacing those of the same workload and order; in workload order. */
export function mergeEntries(earlier: readonly PeerEntry[], now: readonly PeerEntry[]): PeerEntry[] {
  const same = (a: PeerEntry, b: PeerEntry) => a.workload === b.workload && a.order === b.order
  return [...earlier.filter((e) => !now.some((n) => same(e, n))), ...now].sort((a, b) => rank(a) - rank(b))
}

export function saveEntries(entries: readonly PeerEntry[]): void {
  writeFileSync(storeFile(), `${JSON.stringify(entries, null, 2)}\n`)
}

const labelOf = (name: string) => WORKLOADS.find((w) => w.name === name)?.label ?? name
const orderOf = (e: PeerEntry) => (e.order === 'streamlane-first' ? 'Streamlane first' : 'Kafka Streams first')
const rate = (e: PeerEntry, a: AppSummary) => e.records / a.seconds
const perRecord = (e: PeerEntry, seconds: number | null) => (seconds === null ? Number.NaN : seconds / e.records)

function ratioCells(e: PeerEntry, column: 'cold' | 'warm'): Cell[] {
  const ours = e.streamlane[column]
  const theirs = e.kafkaStreams[column]
  return [ratio(rate(e, ours), rate(e, theirs)), ratio(perRecord(e, ours.cpuSeconds), perRecord(e, theirs.cpuSeconds))]
}

export function summaryTable(entries: readonly PeerEntry[]): string {
  const rows = entries.map((e) => [
    labelOf(e.workload),
    orderOf(e),
    ...ratioCells(e, 'warm').map((c) => `**${c}**`),
    ...ratioCells(e, 'cold'),
    ratio(perRecord(e, e.streamlane.warm.brokerCpuSeconds), perRecord(e, e.kafkaStreams.warm.brokerCpuSeconds)),
    e.outputs
  ])
  return markdownTable({
    headers: [
      'workload',
      'run order',
      'warm records/s',
      'warm CPU per record',
      'cold records/s',
      'cold CPU per record',
      'broker CPU per record (warm)',
      'final values, Streamlane vs Kafka Streams'
    ],
    rows,
    align: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'left']
  })
}

function systemRow(e: PeerEntry, system: string, s: SystemSummary): Cell[] {
  const app = (a: AppSummary) => [
    fixed(a.seconds),
    integer(rate(e, a)),
    cpuMicrosPerRecord(a.cpuSeconds, e.records),
    a.brokerCpuSeconds === null ? 'n/a' : cpuMicrosPerRecord(a.brokerCpuSeconds, e.records)
  ]
  const other = `${s.otherCores === null ? 'n/a' : fixed(s.otherCores)}${s.disturbed ? ' (busy)' : ''}${s.attempts > 1 ? ' (retried)' : ''}`
  return [labelOf(e.workload), orderOf(e), system, ...app(s.cold), ...app(s.warm), other, e.date]
}

export function detailTable(entries: readonly PeerEntry[]): string {
  const rows = entries.flatMap((e) => [
    systemRow(e, 'Streamlane', e.streamlane),
    systemRow(e, 'Kafka Streams', e.kafkaStreams)
  ])
  const headers = [
    'workload',
    'run order',
    'system',
    'cold s',
    'cold records/s',
    'cold CPU µs/record',
    'cold broker CPU µs/record',
    'warm s',
    'warm records/s',
    'warm CPU µs/record',
    'warm broker CPU µs/record',
    'other cores',
    'measured'
  ]
  return markdownTable({
    headers,
    rows,
    align: ['left', 'left', 'left', ...headers.slice(3, 12).map(() => 'right' as const), 'left']
  })
}

/** The commands that produced the entries, each once. */
export function commands(entries: readonly PeerEntry[]): string[] {
  return [...new Set(entries.map((e) => e.command))]
}
