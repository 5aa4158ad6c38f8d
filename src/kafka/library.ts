import {
  type API,
  type Base,
  type BaseOptions,
  type ClusterMetadata,
  type Connection,
  kGetApi,
  kGetConnection
} from '@platformatic/kafka'
import { type ResolvedConnectionOptions, saslIdentity } from './connection.ts'
import { backoffMs, pause } from './deadline.ts'
import { translateKafkaError, UnknownTopicError } from './errors.ts'

/**
 * The few library internals Streamlane depends on beyond its public clients, in one place: choosing a protocol
 * version both sides support (`kGetApi`) and a pooled connection to a given broker (`kGetConnection`). Both are
 * exported symbols of the package; if a release renames them, this is the file to change.
 */

export type AnyClient = Base<BaseOptions>

/** The newest version of a protocol API that both the broker and the library implement. */
export function getApi<Args extends unknown[], Response>(
  client: AnyClient,
  name: string
): Promise<API<Args, Response>> {
  return new Promise((resolve, reject) => {
    client[kGetApi]<Args, Response>(name, (error, api) => (error || !api ? reject(error) : resolve(api)))
  })
}

/** The client's pooled connection to `broker` (opened on first use). */
export function getConnection(client: AnyClient, broker: { host: string; port: number }): Promise<Connection> {
  return new Promise((resolve, reject) => {
    client[kGetConnection](broker, (error, connection) => (error || !connection ? reject(error) : resolve(connection)))
  })
}

/** Calls a raw protocol API with the library's encoder and decoder, as a promise. */
export function callApi<Args extends unknown[], Response>(
  api: API<Args, Response>,
  connection: Connection,
  ...args: Args
): Promise<Response> {
  return api.async(connection, ...args)
}

function isUnknownTopic(error: unknown): string | undefined {
  return error instanceof Error ? /^Unknown topic (.+)\.$/.exec(error.message)?.[1] : undefined
}

function isRetriable(error: unknown): boolean {
  const translated = translateKafkaError(error, { operation: 'metadata' })
  return 'retriable' in translated && translated.retriable === true
}

/**
 * Metadata for `topics` (fresh unless `forceUpdate` is false, then the client's cache when young enough). An unknown topic fails at once with `UnknownTopicError` (the library would retry it
 * like a transient error); connection failures are retried with backoff until `deadline` (epoch ms).
 */
export async function loadTopicMetadata(
  client: AnyClient,
  topics: string[],
  resolved: ResolvedConnectionOptions,
  deadline: number,
  forceUpdate = true
): Promise<ClusterMetadata> {
  const deadlineMs = Math.max(0, deadline - Date.now())
  for (let attempt = 0; ; attempt++) {
    try {
      // A copy: the library sorts the array it is given in place, which reordered the caller's list (describeTopics
      // then answered in sorted order, and ensureTopics compared each topic with another one's partition count).
      return await client.metadata({ topics: [...topics], forceUpdate, retries: 0 })
    } catch (error) {
      const unknown = isUnknownTopic(error)
      if (unknown) throw new UnknownTopicError(unknown, { cause: error })
      const wait = backoffMs(attempt, Math.max(resolved.retryDelayMs, 50), 2_000)
      if (!isRetriable(error) || Date.now() + wait >= deadline) {
        throw translateKafkaError(error, {
          operation: 'metadata',
          topics,
          brokers: resolved.brokers,
          deadlineMs,
          ...saslIdentity(resolved)
        })
      }
      await pause(wait)
    }
  }
}

/** The partitions of `topic` in `metadata`, ascending; throws `UnknownTopicError` when it is absent. */
export function partitionsOf(metadata: ClusterMetadata, topic: string): number[] {
  const info = metadata.topics.get(topic)
  if (!info) throw new UnknownTopicError(topic)
  return Array.from({ length: info.partitionsCount }, (_, i) => i)
}
