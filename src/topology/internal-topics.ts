/**
 * Names of the topics Streamlane creates for an application. Kafka Streams uses the same shapes, so tools and people
 * who know it recognise them: `<application.id>-<name>-repartition` and `<application.id>-<store>-changelog`.
 */

/** The name a topology uses for a repartition topic before it knows the application id (and `describe()` shows). */
export function repartitionTopicSuffix(name: string): string {
  return `${name}-repartition`
}

export function repartitionTopicName(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`
}

export function changelogTopicName(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`
}

/**
 * How internal topic names end: repartition topics, and a foreign-key join's subscription and response topics
 * (`<app.id>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000003-topic`, or `<app.id>-<name>-subscription-response-topic`
 * when named), as Kafka Streams names them.
 */
export const INTERNAL_TOPIC_SUFFIXES = [
  '-repartition',
  '-subscription-registration-topic',
  '-subscription-response-topic'
] as const
const FOREIGN_KEY_JOIN_TOPIC = /-FK-JOIN-SUBSCRIPTION-(REGISTRATION|RESPONSE)-\d{10}-topic$/

/** Whether a short name (without the application id) is one an internal topic may have. */
export function isInternalTopicName(topic: string): boolean {
  return INTERNAL_TOPIC_SUFFIXES.some((suffix) => topic.endsWith(suffix)) || FOREIGN_KEY_JOIN_TOPIC.test(topic)
}

/** The full name of an internal topic (`<app.id>-<short name>`). */
export function internalTopicName(applicationId: string, shortName: string): string {
  return `${applicationId}-${shortName}`
}

/** Whether `topic` is one of the internal topics of `applicationId` (pattern sources must never match those). */
export function isInternalTopicOf(applicationId: string, topic: string): boolean {
  return (
    topic.startsWith(`${applicationId}-`) &&
    (topic.endsWith('-changelog') || isInternalTopicName(topic.slice(applicationId.length + 1)))
  )
}
