import type { StreamlaneErrorCode } from '../error-codes.ts'
import { StreamlaneError } from '../errors.ts'

/**
 * Errors of the Kafka layer. Every class has a stable `code`; messages name the broker, topic, partition, group or
 * transactional id at fault. `translateKafkaError` is the one place that reads the client library's error shapes,
 * so callers of `src/kafka/` never see a library error and swapping the client only touches this file.
 */
export class KafkaError extends StreamlaneError {
  /** The Kafka protocol error name when the broker answered with one, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly kafkaCode: string | undefined
  /** Whether repeating the same call may succeed (leader moved, coordinator loading, broker restarting). */
  readonly retriable: boolean

  constructor(
    code: StreamlaneErrorCode,
    message: string,
    options: { cause?: unknown; kafkaCode?: string | undefined; retriable?: boolean } = {}
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kafkaCode = options.kafkaCode
    this.retriable = options.retriable ?? false
  }
}

/** No broker of the bootstrap list (or the one a request needed) answered before the deadline. */
export class BrokerUnreachableError extends KafkaError {
  readonly brokers: string[]
  readonly deadlineMs: number

  constructor(brokers: string[], deadlineMs: number, detail?: string, options?: { cause?: unknown }) {
    super(
      'STREAMLANE_KAFKA_BROKER_UNREACHABLE',
      `cannot reach Kafka broker ${brokers.join(', ') || '(none configured)'} within ${deadlineMs} ms${detail ? `: ${detail}` : ''}`,
      { ...options, retriable: true }
    )
    this.brokers = brokers
    this.deadlineMs = deadlineMs
  }
}

export class UnknownTopicError extends KafkaError {
  readonly topic: string

  constructor(topic: string, options?: { cause?: unknown }) {
    super('STREAMLANE_KAFKA_UNKNOWN_TOPIC', `topic ${topic} does not exist`, {
      ...options,
      kafkaCode: 'UNKNOWN_TOPIC_OR_PARTITION'
    })
    this.topic = topic
  }
}

export class TopicExistsError extends KafkaError {
  readonly topic: string

  constructor(topic: string, options?: { cause?: unknown }) {
    super('STREAMLANE_KAFKA_TOPIC_EXISTS', `topic ${topic} already exists`, {
      ...options,
      kafkaCode: 'TOPIC_ALREADY_EXISTS'
    })
    this.topic = topic
  }
}

/** Co-partitioned or internal topics must have an exact partition count; a mismatch is a deployment error. */
export class TopicPartitionCountError extends KafkaError {
  readonly topic: string
  readonly expected: number
  readonly actual: number

  constructor(topic: string, expected: number, actual: number) {
    super(
      'STREAMLANE_KAFKA_PARTITION_COUNT',
      `topic ${topic} has ${actual} partitions but ${expected} are required; recreate it or fix the configuration`
    )
    this.topic = topic
    this.expected = expected
    this.actual = actual
  }
}

export class AuthenticationError extends KafkaError {
  readonly broker: string
  readonly mechanism: string
  readonly username: string | undefined

  constructor(broker: string, mechanism: string, options?: { cause?: unknown; username?: string | undefined }) {
    const who = options?.username === undefined ? '' : ` for user ${options.username}`
    super(
      'STREAMLANE_KAFKA_AUTHENTICATION',
      `authentication${who} with broker ${broker} failed (SASL mechanism ${mechanism}): check the username, password (or token) and mechanism`,
      options
    )
    this.broker = broker
    this.mechanism = mechanism
    this.username = options?.username
  }
}

/**
 * The TLS handshake with a broker failed: its certificate is not trusted (unknown CA, self-signed, expired), does not
 * match the broker's host name, or the broker refused the client (no or unknown client certificate).
 */
export class BrokerTlsError extends KafkaError {
  readonly broker: string
  /** Node's / OpenSSL's code, e.g. `SELF_SIGNED_CERT_IN_CHAIN`, `ERR_TLS_CERT_ALTNAME_INVALID`. */
  readonly tlsCode: string

  constructor(broker: string, tlsCode: string, detail: string, options?: { cause?: unknown }) {
    super('STREAMLANE_KAFKA_TLS', `TLS with Kafka broker ${broker} failed: ${tlsAdvice(tlsCode, detail)}`, options)
    this.broker = broker
    this.tlsCode = tlsCode
  }
}

/** Certificate verification failures (OpenSSL's X509 codes as Node reports them). */
const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'INVALID_CA'
])

function isTlsCode(code: string): boolean {
  return UNTRUSTED_CERTIFICATE_CODES.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code.startsWith('ERR_SSL_')
}

function tlsAdvice(code: string, detail: string): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `its certificate does not match the host name (${detail}); connect with a name the certificate lists, or turn off security.ssl.endpointIdentification (KAFKA_SSL_ENDPOINT_IDENTIFICATION=false) only if you must`
  }
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return `its certificate is not trusted: ${detail} (${code}); set security.ssl.caFile (KAFKA_SSL_CA_FILE) to the CA that signed the broker's certificate`
  }
  return `${detail} (${code}); check the broker's listener (TLS or not) and, if it requires client certificates, security.ssl.certFile and keyFile`
}

/** An operation did not finish before its configured deadline. */
export class KafkaTimeoutError extends KafkaError {
  readonly operation: string
  readonly deadlineMs: number

  constructor(operation: string, deadlineMs: number, detail?: string, options?: { cause?: unknown }) {
    super(
      'STREAMLANE_KAFKA_TIMEOUT',
      `${operation} did not complete within ${deadlineMs} ms${detail ? `: ${detail}` : ''}`,
      {
        ...options,
        retriable: true
      }
    )
    this.operation = operation
    this.deadlineMs = deadlineMs
  }
}

/**
 * The producer's epoch is over: another producer with the same transactional id started, or the broker aborted a
 * transaction that stayed open past its timeout. Never retried with this producer: its open transaction is aborted,
 * and only a new producer (a new epoch) may write again.
 */
export class ProducerFencedError extends KafkaError {
  readonly transactionalId: string

  constructor(transactionalId: string, options?: { cause?: unknown; kafkaCode?: string }) {
    super(
      'STREAMLANE_KAFKA_PRODUCER_FENCED',
      `producer with transactional id ${transactionalId} was fenced (a newer producer with the same id started, or the broker aborted a transaction open longer than its timeout); its open transaction is aborted`,
      options
    )
    this.transactionalId = transactionalId
  }
}

/**
 * The producer's owner holds writes (its `holdWhile` is true: the member may have lost its tasks), so a record, an
 * AddOffsetsToTxn, a TxnOffsetCommit or a commit's EndTxn was not sent. The transaction stays open: it commits later,
 * or is aborted once the tasks turn out to be lost. Never retried as such; the caller decides.
 */
export class WritesHeldError extends StreamlaneError {
  constructor(what = 'records are') {
    super('STREAMLANE_WRITES_HELD', `${what} held back: this member may have lost its tasks`)
  }
}

/** A fetch position is outside the partition's log and the reset policy is `error`. */
export class OffsetOutOfRangeError extends KafkaError {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint

  constructor(topic: string, partition: number, offset: bigint, detail?: string) {
    super(
      'STREAMLANE_KAFKA_OFFSET_OUT_OF_RANGE',
      `offset ${offset} of ${topic}-${partition} is out of range${detail ? ` (${detail})` : ''}`,
      { kafkaCode: 'OFFSET_OUT_OF_RANGE' }
    )
    this.topic = topic
    this.partition = partition
    this.offset = offset
  }
}

/** The group coordinator refused offsets for a generation / member that is no longer current. */
export class OffsetCommitRejectedError extends KafkaError {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string

  constructor(
    groupId: string,
    generationId: number,
    memberId: string,
    kafkaCode: string,
    options?: { cause?: unknown }
  ) {
    super(
      'STREAMLANE_KAFKA_OFFSET_COMMIT_REJECTED',
      `group ${groupId} rejected offsets of generation ${generationId} member ${memberId || '(none)'}: ${kafkaCode}`,
      { ...options, kafkaCode }
    )
    this.groupId = groupId
    this.generationId = generationId
    this.memberId = memberId
  }
}

/** A call on a client that was closed. */
export class KafkaClosedError extends KafkaError {
  constructor(what: string) {
    super('STREAMLANE_KAFKA_CLOSED', `${what} is closed`)
  }
}

/** Any other failure of a Kafka request, with the operation and the Kafka error name when there is one. */
export class KafkaRequestError extends KafkaError {
  readonly operation: string

  constructor(
    operation: string,
    detail: string,
    options: { cause?: unknown; kafkaCode?: string; retriable?: boolean } = {}
  ) {
    super('STREAMLANE_KAFKA_REQUEST_FAILED', `${operation} failed: ${detail}`, options)
    this.operation = operation
  }
}

/** What the caller was doing; lets a translated error name the topic, group, broker or transactional id. */
export interface KafkaErrorContext {
  operation: string
  brokers?: string[]
  topics?: string[]
  groupId?: string
  generationId?: number
  memberId?: string
  transactionalId?: string
  mechanism?: string | undefined
  /** The SASL user the client authenticates as (never its secret), for authentication errors. */
  username?: string | undefined
  deadlineMs?: number
  partition?: number
  offset?: bigint
}

/** The facts `translateKafkaError` needs from the library's nested error tree, gathered in one walk. */
interface ErrorFacts {
  protocol: { apiId: string; path?: string; canRetry: boolean; serverMessage?: string }[]
  unknownTopics: string[]
  failedBrokers: string[]
  authentication: boolean
  tls: { code: string; message: string } | undefined
  timeout: boolean
  closed: boolean
  messages: string[]
}

const FENCING_CODES = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_NOT_FOUND'])
const STALE_GROUP_CODES = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID'])
const UNKNOWN_TOPIC_CODES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])

function collectFacts(error: unknown, facts: ErrorFacts, depth = 0): void {
  if (!(error instanceof Error) || depth > 12) return
  const e = error as Error & Record<string, unknown>
  facts.messages.push(e.message)
  if (e.code === 'PLT_KFK_PROTOCOL' && typeof e.apiId === 'string') {
    facts.protocol.push({
      apiId: e.apiId,
      path: typeof e.path === 'string' ? e.path : undefined,
      canRetry: e.canRetry === true,
      serverMessage: typeof e.serverErrorMessage === 'string' ? e.serverErrorMessage : undefined
    })
  }
  if (e.code === 'PLT_KFK_AUTHENTICATION') facts.authentication = true
  if (typeof e.code === 'string' && isTlsCode(e.code)) facts.tls ??= { code: e.code, message: e.message }
  // The library's TimeoutError carries the network code; its class name is the reliable mark.
  if (e.constructor.name === 'TimeoutError' || /timed out/i.test(e.message)) facts.timeout = true
  if (e.closed === true || /Client is closed|pool is closed/.test(e.message)) facts.closed = true
  const unknown = /^Unknown topic (.+)\.$/.exec(e.message)
  if (unknown?.[1]) facts.unknownTopics.push(unknown[1])
  const failed = /^Connection to (\S+:\d+) (?:failed|timed out)/.exec(e.message)
  if (failed?.[1]) facts.failedBrokers.push(failed[1])
  if (Array.isArray(e.errors)) for (const inner of e.errors) collectFacts(inner, facts, depth + 1)
  if (e.cause) collectFacts(e.cause, facts, depth + 1)
}

/** The library reports which request element failed as a path like `/topics/2/...`; map it back to a topic name. */
function topicFromPath(path: string | undefined, topics: string[] | undefined): string | undefined {
  if (!topics?.length) return undefined
  const index = path ? /\/(?:topics|responses|results)\/(\d+)/.exec(path)?.[1] : undefined
  if (index !== undefined) return topics[Number(index)]
  return topics.length === 1 ? topics[0] : undefined
}

function unique(values: string[]): string[] {
  return [...new Set(values)]
}

/**
 * Maps an error thrown by the client library to a Streamlane error that names what failed. Streamlane errors pass
 * through unchanged, so wrapping a call twice is harmless.
 */
export function translateKafkaError(error: unknown, context: KafkaErrorContext): StreamlaneError {
  if (error instanceof StreamlaneError) return error
  const facts: ErrorFacts = {
    protocol: [],
    unknownTopics: [],
    failedBrokers: [],
    authentication: false,
    tls: undefined,
    timeout: false,
    closed: false,
    messages: []
  }
  collectFacts(error, facts)
  const options = { cause: error }
  const brokers = unique(facts.failedBrokers.length ? facts.failedBrokers : (context.brokers ?? []))
  const deadlineMs = context.deadlineMs ?? 0

  if (facts.authentication || facts.protocol.some((p) => p.apiId === 'SASL_AUTHENTICATION_FAILED')) {
    return new AuthenticationError(brokers[0] ?? 'unknown', context.mechanism ?? 'unknown', {
      ...options,
      username: context.username
    })
  }
  if (facts.tls) return new BrokerTlsError(brokers[0] ?? 'unknown', facts.tls.code, facts.tls.message, options)
  const fenced = facts.protocol.find((p) => FENCING_CODES.has(p.apiId))
  if (fenced && context.transactionalId) {
    return new ProducerFencedError(context.transactionalId, { ...options, kafkaCode: fenced.apiId })
  }
  if (facts.unknownTopics[0]) return new UnknownTopicError(facts.unknownTopics[0], options)
  const unknownTopic = facts.protocol.find((p) => UNKNOWN_TOPIC_CODES.has(p.apiId))
  const unknownName = unknownTopic && topicFromPath(unknownTopic.path, context.topics)
  if (unknownName) return new UnknownTopicError(unknownName, options)
  const exists = facts.protocol.find((p) => p.apiId === 'TOPIC_ALREADY_EXISTS')
  const existsName = exists && topicFromPath(exists.path, context.topics)
  if (existsName) return new TopicExistsError(existsName, options)
  if (facts.protocol.some((p) => p.apiId === 'OFFSET_OUT_OF_RANGE') && context.topics?.[0] !== undefined) {
    return new OffsetOutOfRangeError(context.topics[0], context.partition ?? -1, context.offset ?? -1n)
  }
  const stale = facts.protocol.find((p) => STALE_GROUP_CODES.has(p.apiId))
  if (stale && context.groupId !== undefined) {
    return new OffsetCommitRejectedError(
      context.groupId,
      context.generationId ?? -1,
      context.memberId ?? '',
      stale.apiId,
      options
    )
  }
  const first = facts.protocol[0]
  if (first) {
    const detail = `${first.apiId}${first.serverMessage ? ` (${first.serverMessage})` : ''}`
    return new KafkaRequestError(context.operation, detail, {
      ...options,
      kafkaCode: first.apiId,
      retriable: first.canRetry
    })
  }
  if (facts.closed) return new KafkaClosedError(`the Kafka client used for ${context.operation}`)
  if (facts.failedBrokers.length > 0) {
    return new BrokerUnreachableError(brokers, deadlineMs, facts.messages.at(-1), options)
  }
  if (facts.timeout) return new KafkaTimeoutError(context.operation, deadlineMs, undefined, options)
  const message = error instanceof Error ? error.message : String(error)
  return new KafkaRequestError(context.operation, message, options)
}
