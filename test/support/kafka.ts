import { randomBytes } from 'node:crypto'

/** Bootstrap servers of the broker the test run started (scripts/test.ts) or the one named by KAFKA_BROKERS. */
export function testBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS
  if (!brokers) {
    throw new Error(
      'KAFKA_BROKERS is not set: run integration tests through `npm test`, or start `npm run kafka` and export KAFKA_BROKERS'
    )
  }
  return brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
}

/** A topic, group or app id no other test (or earlier run against the same broker) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}
