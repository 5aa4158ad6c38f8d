/**
 * `streamlane_query_requests_total`: the query endpoint's answers by route, by who asked (a client, or a peer that
 * forwarded the query) and by outcome (read here, forwarded to the owner, refused as busy, any other error). The
 * shape mirrors query/'s QueryAnswerEvent; observe owns its own copy so it imports nothing of query/.
 */
import { Counter, type Registry } from 'prom-client'

export interface QueryRequestLabels {
  route: string
  via: string
  outcome: string
}

export const QUERY_METRIC_NAME = 'streamlane_query_requests_total'

/** Registers the counter in the app's registry; the result counts one answered query. */
export function queryRequestMetrics(registry: Registry): (labels: QueryRequestLabels) => void {
  const counter = new Counter({
    name: QUERY_METRIC_NAME,
    help: 'Interactive queries answered, by route, by who asked (client or peer) and by outcome (local, forwarded, busy, error)',
    labelNames: ['route', 'via', 'outcome'] as const,
    registers: [registry]
  })
  return (labels) => counter.inc({ route: labels.route, via: labels.via, outcome: labels.outcome })
}
