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

export { INTERNAL_TOPIC_SUFFIXES, isInternalTopicName } from '../internal-topic-names.ts'

/** The full name of an internal topic (`<app.id>-<short name>`). */
export function internalTopicName(applicationId: string, shortName: string): string {
  return `${applicationId}-${shortName}`
}

import { isInternalInputTopicOf } from '../internal-topic-names.ts'

/** Whether `topic` is one of the internal topics of `applicationId` (pattern sources must never match those). */
export function isInternalTopicOf(applicationId: string, topic: string): boolean {
  return (
    (topic.startsWith(`${applicationId}-`) && topic.endsWith('-changelog')) ||
    isInternalInputTopicOf(applicationId, topic)
  )
}
