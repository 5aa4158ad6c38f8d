import type { TimelinePoint } from './run.ts'

/**
 * Hand-written SVG: two stacked panels sharing the time axis, lag on top, replicas below, both controllers on each
 * with a legend, axis labels and the lag target. Pure string building so it can be tested and diffed.
 */
export interface ChartSeries {
  label: string
  color: string
  timeline: readonly TimelinePoint[]
}

export interface ChartInput {
  title: string
  subtitle: string
  series: readonly ChartSeries[]
  lagTarget: number
  /** Records per second one replica processes: the grey area shows the load in replicas' worth. */
  recordsPerSecondPerReplica: number
  partitions: number
}

const WIDTH = 960
const LEFT = 78
const RIGHT = 24
const PLOT_WIDTH = WIDTH - LEFT - RIGHT
const LAG_TOP = 92
const LAG_HEIGHT = 230
const REPLICAS_TOP = LAG_TOP + LAG_HEIGHT + 44
const REPLICAS_HEIGHT = 170
const HEIGHT = REPLICAS_TOP + REPLICAS_HEIGHT + 58
/** Points per line at most: one per couple of pixels keeps files small and peaks visible. */
const MAX_POINTS = 480

export function renderComparisonChart(input: ChartInput): string {
  const duration = Math.max(1, ...input.series.map((s) => s.timeline.length))
  const x = (t: number) => LEFT + (t / duration) * PLOT_WIDTH

  const lagMax = niceCeiling(
    Math.max(input.lagTarget * 1.5, ...input.series.flatMap((s) => s.timeline.map((p) => p.lag)))
  )
  const lagY = (v: number) => LAG_TOP + LAG_HEIGHT - (Math.min(v, lagMax) / lagMax) * LAG_HEIGHT
  const replicaMax = Math.max(input.partitions, ...input.series.flatMap((s) => s.timeline.map((p) => p.replicas))) + 1
  const replicaY = (v: number) =>
    REPLICAS_TOP + REPLICAS_HEIGHT - (Math.min(v, replicaMax) / replicaMax) * REPLICAS_HEIGHT

  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="26" font-size="18" font-weight="bold">${escapeXml(input.title)}</text>`,
    `<text x="${LEFT}" y="46" fill="#444444">${escapeXml(input.subtitle)}</text>`
  )
  parts.push(legend(input))

  // Lag panel.
  parts.push(yAxis(LAG_TOP, LAG_HEIGHT, lagMax, lagY, formatCount, 'lag (records not yet processed)'))
  parts.push(
    `<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${f(lagY(input.lagTarget))}" y2="${f(lagY(input.lagTarget))}" ` +
      `stroke="#777777" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${LEFT + PLOT_WIDTH - 4}" y="${f(lagY(input.lagTarget) - 5)}" text-anchor="end" fill="#555555">` +
      `lag target ${formatCount(input.lagTarget)}</text>`
  )
  for (const s of input.series) {
    parts.push(
      polyline(
        downsample(s.timeline, (p) => p.lag),
        x,
        lagY,
        s.color,
        false
      )
    )
  }

  // Replicas panel: the load in replicas' worth behind both lines.
  parts.push(yAxis(REPLICAS_TOP, REPLICAS_HEIGHT, replicaMax, replicaY, (v) => String(v), 'replicas (pods)'))
  const first = input.series[0]
  if (first) {
    const load = downsample(first.timeline, (p) => p.arrivalRate / input.recordsPerSecondPerReplica)
    const top = load.map(([t, v]) => `${f(x(t))},${f(replicaY(v))}`).join(' ')
    const last = load[load.length - 1]?.[0] ?? 0
    parts.push(
      `<polygon points="${f(x(0))},${f(replicaY(0))} ${top} ${f(x(last))},${f(replicaY(0))}" fill="#e3e3e3" stroke="none"/>`
    )
  }
  parts.push(
    `<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${f(replicaY(input.partitions))}" y2="${f(replicaY(input.partitions))}" ` +
      `stroke="#bbbbbb" stroke-dasharray="2 3"/>`,
    `<text x="${LEFT + 4}" y="${f(replicaY(input.partitions) - 4)}" fill="#777777">${input.partitions} partitions</text>`
  )
  for (const s of input.series) {
    parts.push(
      polyline(
        downsample(s.timeline, (p) => p.replicas),
        x,
        replicaY,
        s.color,
        true
      )
    )
  }

  parts.push(xAxis(duration, x))
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

function legend(input: ChartInput): string {
  const items: string[] = []
  let cursor = LEFT
  const y = 70
  for (const s of input.series) {
    items.push(
      `<line x1="${cursor}" x2="${cursor + 26}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${cursor + 32}" y="${y + 4}">${escapeXml(s.label)}</text>`
    )
    cursor += 44 + s.label.length * 6.6
  }
  items.push(
    `<rect x="${cursor}" y="${y - 6}" width="26" height="12" fill="#e3e3e3"/>`,
    `<text x="${cursor + 32}" y="${y + 4}">load ÷ ${formatCount(input.recordsPerSecondPerReplica)} rec/s per replica</text>`
  )
  return items.join('\n')
}

function yAxis(
  top: number,
  height: number,
  max: number,
  y: (v: number) => number,
  format: (v: number) => string,
  label: string
): string {
  const out: string[] = [
    `<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${height}" fill="none" stroke="#999999"/>`
  ]
  for (const tick of ticks(max)) {
    const ty = f(y(tick))
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${ty}" y2="${ty}" stroke="#eeeeee"/>`,
      `<text x="${LEFT - 6}" y="${f(y(tick) + 4)}" text-anchor="end" fill="#333333">${format(tick)}</text>`
    )
  }
  const cy = top + height / 2
  out.push(
    `<text transform="translate(18 ${f(cy)}) rotate(-90)" text-anchor="middle" fill="#333333">${escapeXml(label)}</text>`
  )
  return out.join('\n')
}

function xAxis(duration: number, x: (t: number) => number): string {
  const minutes = duration / 60
  const step = niceStep(minutes / 10)
  const out: string[] = []
  const bottom = REPLICAS_TOP + REPLICAS_HEIGHT
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    const tx = f(x(m * 60))
    out.push(
      `<line x1="${tx}" x2="${tx}" y1="${bottom}" y2="${bottom + 5}" stroke="#333333"/>`,
      `<line x1="${tx}" x2="${tx}" y1="${LAG_TOP + LAG_HEIGHT}" y2="${LAG_TOP + LAG_HEIGHT + 5}" stroke="#333333"/>`,
      `<text x="${tx}" y="${bottom + 19}" text-anchor="middle" fill="#333333">${Math.round(m)}</text>`
    )
  }
  out.push(
    `<text x="${LEFT + PLOT_WIDTH / 2}" y="${bottom + 40}" text-anchor="middle" fill="#333333">time (minutes)</text>`
  )
  return out.join('\n')
}

function polyline(
  points: readonly [number, number][],
  x: (t: number) => number,
  y: (v: number) => number,
  color: string,
  step: boolean
): string {
  const coords: string[] = []
  let previous: number | null = null
  for (const [t, v] of points) {
    if (step && previous !== null && previous !== v) coords.push(`${f(x(t))},${f(y(previous))}`)
    coords.push(`${f(x(t))},${f(y(v))}`)
    previous = v
  }
  return `<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" opacity="0.9"/>`
}

/** Buckets of equal width, each reduced to its maximum, so a one-second peak still shows. */
function downsample(timeline: readonly TimelinePoint[], value: (p: TimelinePoint) => number): [number, number][] {
  const bucket = Math.max(1, Math.ceil(timeline.length / MAX_POINTS))
  const out: [number, number][] = []
  for (let start = 0; start < timeline.length; start += bucket) {
    let max = Number.NEGATIVE_INFINITY
    for (let i = start; i < Math.min(timeline.length, start + bucket); i++) max = Math.max(max, value(timeline[i]!))
    out.push([start, max])
  }
  return out
}

function ticks(max: number): number[] {
  const step = niceStep(max / 5)
  const out: number[] = []
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v * 1e6) / 1e6)
  return out
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
export function niceStep(raw: number): number {
  if (!(raw > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power
  return 10 * power
}

function niceCeiling(value: number): number {
  const step = niceStep(value / 5)
  return Math.max(step, Math.ceil(value / step) * step)
}

export function formatCount(value: number): string {
  if (value >= 1_000_000) return `${trim(value / 1_000_000)}M`
  if (value >= 1_000) return `${trim(value / 1_000)}k`
  return String(Math.round(value))
}

function trim(value: number): string {
  return String(Math.round(value * 10) / 10)
}

function f(value: number): string {
  return value.toFixed(1)
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
