/**
 * Page views per user per minute, and per visit, final results only. Views are re-keyed by user and counted twice on
 * event time: in tumbling one-minute windows (store `views-per-minute`) and in sessions, runs of views with no pause
 * longer than SESSION_GAP_MS (store `view-sessions`). Each window's and each session's count is written ONCE, when it
 * has closed: at its end plus a grace period for views that arrive out of order. A view later than that is dropped and
 * counted (`streamlane_task_records_dropped_total{reason="late"}`), never written as a correction. Both stores can be
 * queried while their windows are open (docs/interactive-queries.md).
 *
 *   streamlane run examples/page-views/app.ts     (KAFKA_BROKERS; topics from the env or the defaults below)
 *
 * Output: `page-views-per-minute`, key `<user>@<window start, epoch ms>`, value the count (8-byte long);
 * `page-view-sessions`, key `<user>@<session start>-<session end>` (epoch ms of its first and last view), value the
 * count (8-byte long).
 *
 * Windows close on stream time, the largest view timestamp seen: with no new views, the last windows stay open.
 */
import { z } from 'zod'
import {
  defineApp,
  Materialized,
  Serdes,
  SessionWindows,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  type Topology
} from '../../src/index.ts'

export const PageView = z.object({ user: z.string(), page: z.string() })
export type PageView = z.infer<typeof PageView>

export const topics = {
  views: process.env.PAGE_VIEWS_TOPIC ?? 'page-views',
  perMinute: process.env.PAGE_VIEWS_PER_MINUTE_TOPIC ?? 'page-views-per-minute',
  sessions: process.env.PAGE_VIEW_SESSIONS_TOPIC ?? 'page-view-sessions'
}

export const WINDOW_MS = 60_000
/** How late a view may arrive (behind the newest view seen) and still count. */
export const GRACE_MS = Number(process.env.PAGE_VIEWS_GRACE_MS ?? 30_000)
/** A pause between two views of a user longer than this ends the user's session (visit). */
export const SESSION_GAP_MS = Number(process.env.PAGE_VIEWS_SESSION_GAP_MS ?? 5 * 60_000)

export function outputKey(user: string, windowStartMs: number): string {
  return `${user}@${windowStartMs}`
}

export function sessionKey(user: string, startMs: number, endMs: number): string {
  return `${user}@${startMs}-${endMs}`
}

export function pageViews(): Topology {
  const builder = new StreamsBuilder()
  // One repartition by user feeds both counts (a named grouping cannot be aggregated twice).
  const byUser = builder
    .stream(topics.views, { keySerde: Serdes.string(), valueSerde: Serdes.jsonSchema(PageView) })
    .selectKey((_, view) => view.user)
    .repartition({ name: 'views-by-user', keySerde: Serdes.string() })
    .groupByKey()
  byUser
    .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW_MS, GRACE_MS))
    .count(Materialized.as('views-per-minute'))
    .suppress(Suppressed.untilWindowCloses({ name: 'final-views-per-minute' }))
    .toStream()
    .map((windowed, count) => [outputKey(windowed.key, windowed.window.start), count] as const)
    .to(topics.perMinute, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  byUser
    .windowedBy(SessionWindows.ofInactivityGapAndGrace(SESSION_GAP_MS, GRACE_MS))
    .count(Materialized.as('view-sessions'))
    .suppress(Suppressed.untilWindowCloses({ name: 'final-view-sessions' }))
    .toStream()
    .map((session, count) => [sessionKey(session.key, session.window.start, session.window.end), count] as const)
    .to(topics.sessions, { keySerde: Serdes.string(), valueSerde: Serdes.long() })
  return builder.build()
}

export default defineApp({
  topology: pageViews,
  config: { applicationId: 'page-views' }
})
