/**
 * Streamlane's layer map: which folders of src/ each folder may import, besides itself and the shared modules at the
 * root of src/. Keep it acyclic: that is what keeps the folders free of import cycles. .dependency-cruiser.mjs turns
 * it into rules (run by `npm run lint`); docs/development.md shows the same table (a unit test compares them).
 */

/**
 * Small shared modules every folder may import: the base error class and its codes, the task id, the topic-partition,
 * the names of internal topics.
 */
export const shared: readonly string[] = ['errors', 'error-codes', 'task-id', 'topic-partition', 'internal-topic-names']

export const mayImport: Readonly<Record<string, readonly string[]>> = {
  kafka: [],
  serde: [],
  assignment: [],
  endpoint: [],
  topology: ['serde'],
  // The store contract (StateStore, as Kafka Streams' processor package holds it) lives in topology.
  state: ['serde', 'topology'],
  dsl: ['topology', 'state', 'serde'],
  // observe takes runtime's types through interfaces it owns, so runtime may use observe and not the other way.
  observe: ['topology', 'endpoint'],
  // query takes the running app through an interface it owns (QuerySource), so the app can offer the query API.
  query: ['topology', 'state', 'serde'],
  runtime: ['kafka', 'topology', 'state', 'assignment', 'serde', 'observe', 'endpoint', 'query'],
  // kafka: the admin client (offsets, group descriptions); assignment: the userData codecs.
  autoscale: ['kafka', 'assignment', 'observe', 'endpoint'],
  testing: ['topology', 'state', 'serde', 'dsl'],
  cli: [
    'kafka',
    'topology',
    'state',
    'serde',
    'dsl',
    'runtime',
    'assignment',
    'autoscale',
    'observe',
    'endpoint',
    'query'
  ]
}
