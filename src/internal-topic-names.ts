/**
 * How the topics Streamlane creates for an application are named, shared by the topology (which creates them) and the
 * autoscaler (which measures an app's group and must tell its internal inputs from other topics). Kafka Streams uses
 * the same shapes: `<application.id>-<name>-repartition`, `<application.id>-<store>-changelog`, and a foreign-key
 * join's subscription and response topics.
 */

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

/** Whether a short name (without the application id) is one an internal topic the app reads may have. */
export function isInternalTopicName(topic: string): boolean {
  return INTERNAL_TOPIC_SUFFIXES.some((suffix) => topic.endsWith(suffix)) || FOREIGN_KEY_JOIN_TOPIC.test(topic)
}

/**
 * Whether `topic` is an internal topic that `applicationId`'s group reads as an input (a repartition topic or a
 * foreign-key join's subscription or response topic): changelogs are read only to restore, outside the group.
 */
export function isInternalInputTopicOf(applicationId: string, topic: string): boolean {
  const prefix = `${applicationId}-`
  // A name after the prefix: `<app.id>-repartition` alone is not one.
  return topic.startsWith(prefix) && topic.length > prefix.length && isInternalTopicName(topic.slice(prefix.length))
}
