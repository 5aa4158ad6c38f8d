/**
 * Page views per user per minute, final results only. Views are re-keyed by user, counted in tumbling one-minute
 * windows on event time, and each window's count is written ONCE, when the window has closed: one minute after its
 * start plus a grace period for views that arrive out of order. A view later than that is dropped and counted
 * (`streamlane_task_records_dropped_total{reason="late"}`), never written as a correction.
 *
 *   streamlane run examples/page-views/app.ts     (KAFKA_BROKERS; topics from the env or the defaults below)
 *
 * Output: `page-views-per-minute`, key `<user>@<window start, epoch ms>`, value the count (8-byte long).
 *
 * Windows close on stream time, the largest view timestamp seen: with no new views, the last windows stay open.
 */
import { z } from 'zod'
import {
  defineApp,
  Materialized,
  Serdes,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  type Topology
} from '../../src/index.ts'

export const PageView = z.object({ user: z.string(), page: z.string() })
export type PageView = z.infer<typeof PageView>

export const topics = {
  views: process.env.PAGE_VIEWS_TOPIC ?? 'page-views',
  perMinute: process.env.PAGE_VIEWS_PER_MINUTE_TOPIC ?? 'page-views-per-minute'
}

export const WINDOW_MS = 60_000
/** How late a view may arrive (behind the newest view seen) and still count. */
export const GRACE_MS = Number(process.env.PAGE_VIEWS_GRACE_MS ?? 30_000)

export function outputKey(user: string, windowStartMs: number): string {
  return `${user}@${windowStartMs}`
}

export function pageViews(): Topology {
  const builder = new StreamsBuilder()
  builder
    .stream(topics.views, { keySerde: Serdes.string(), valueSerde: Serdes.jsonSchema(PageView) })
    .groupBy((_, view) => view.user, { name: 'views-by-user', keySerde: Serdes.string() })
    .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, GRACE_MS))
    .count(Materialized.as('views-per-minute'))
    .suppress(Suppressed.untilWindowCloses({ name: 'final-views-per-minute' }))
    .toStream()
    .map((windowed, count) => [outputKey(windowed.key, windowed.window.start), count] as const)
    .to(topics.perMinute, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  return builder.build()
}

export default defineApp({
  topology: pageViews,
  config: { applicationId: 'page-views' }
})
