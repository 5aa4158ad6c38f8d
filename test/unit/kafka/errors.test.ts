import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AuthenticationError as LibraryAuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UserError
} from '@platformatic/kafka'
import { StreamlaneError } from '../../../src/errors.ts'
import {
  AuthenticationError,
  BrokerTlsError,
  BrokerUnreachableError,
  KafkaClosedError,
  KafkaRequestError,
  KafkaTimeoutError,
  OffsetCommitRejectedError,
  ProducerFencedError,
  TopicExistsError,
  TopicPartitionCountError,
  translateKafkaError,
  UnknownTopicError
} from '../../../src/kafka/errors.ts'

/** The library's shapes as they arrive: ResponseError inside a retry's MultipleErrors inside an operation's. */
function response(apiKey: number, errors: Record<string, number>): Error {
  const entries = Object.fromEntries(
    Object.entries(errors).map(([path, code]) => [path, [code, null] as [number, null]])
  )
  const inner = new ResponseError(apiKey, 7, entries, {})
  return new MultipleErrors('Operation failed.', [new MultipleErrors('op failed 2 times.', [inner, inner])])
}

test('every class is a StreamlaneError with a stable code and a message naming what failed', () => {
  const cases: [StreamlaneError, string, RegExp][] = [
    [
      new BrokerUnreachableError(['b1:9092', 'b2:9092'], 5000),
      'STREAMLANE_KAFKA_BROKER_UNREACHABLE',
      /b1:9092, b2:9092 within 5000 ms/
    ],
    [new UnknownTopicError('orders'), 'STREAMLANE_KAFKA_UNKNOWN_TOPIC', /topic orders does not exist/],
    [new TopicPartitionCountError('orders', 6, 3), 'STREAMLANE_KAFKA_PARTITION_COUNT', /orders has 3 partitions but 6/],
    [
      new AuthenticationError('b1:9092', 'SCRAM-SHA-512'),
      'STREAMLANE_KAFKA_AUTHENTICATION',
      /b1:9092 failed \(SASL mechanism SCRAM-SHA-512\)/
    ],
    [
      new KafkaTimeoutError('listOffsets', 3000),
      'STREAMLANE_KAFKA_TIMEOUT',
      /listOffsets did not complete within 3000 ms/
    ],
    [new ProducerFencedError('app-0'), 'STREAMLANE_KAFKA_PRODUCER_FENCED', /transactional id app-0 was fenced/]
  ]
  for (const [error, code, message] of cases) {
    assert.ok(error instanceof StreamlaneError)
    assert.equal(error.code, code)
    assert.match(error.message, message)
    assert.equal(error.name, error.constructor.name)
  }
})

test('unknown topics are named, from the library message or from the failing request element', () => {
  const fromMetadata = translateKafkaError(new UserError('Unknown topic orders.'), { operation: 'describeTopics' })
  assert.ok(fromMetadata instanceof UnknownTopicError)
  assert.equal(fromMetadata.topic, 'orders')

  const fromPath = translateKafkaError(response(20, { '/responses/1': 3 }), {
    operation: 'deleteTopics',
    topics: ['a', 'b']
  })
  assert.ok(fromPath instanceof UnknownTopicError)
  assert.equal(fromPath.topic, 'b')
})

test('topic exists, fencing and stale generations', () => {
  const exists = translateKafkaError(response(19, { '/topics/0': 36 }), { operation: 'createTopics', topics: ['t'] })
  assert.ok(exists instanceof TopicExistsError && exists.topic === 't')

  for (const code of [47, 90]) {
    const fenced = translateKafkaError(response(26, { '': code }), { operation: 'commit', transactionalId: 'app-1' })
    assert.ok(fenced instanceof ProducerFencedError, `code ${code}`)
    assert.equal(fenced.transactionalId, 'app-1')
  }
  const stale = translateKafkaError(response(28, { '/topics/0/partitions/0': 22 }), {
    operation: 'TxnOffsetCommit',
    groupId: 'g',
    generationId: 7,
    memberId: 'm-1'
  })
  assert.ok(stale instanceof OffsetCommitRejectedError)
  assert.deepEqual(
    [stale.groupId, stale.generationId, stale.memberId, stale.kafkaCode],
    ['g', 7, 'm-1', 'ILLEGAL_GENERATION']
  )
})

test('connection failures name the broker; authentication failures name broker and mechanism', () => {
  const refused = new MultipleErrors('metadata failed 3 times.', [
    new NetworkError('Connection to 10.0.0.7:9093 failed.', { cause: new Error('connect ECONNREFUSED 10.0.0.7:9093') })
  ])
  const unreachable = translateKafkaError(refused, { operation: 'metadata', brokers: ['seed:9092'], deadlineMs: 2000 })
  assert.ok(unreachable instanceof BrokerUnreachableError)
  assert.deepEqual(unreachable.brokers, ['10.0.0.7:9093'])
  assert.match(unreachable.message, /10\.0\.0\.7:9093 within 2000 ms: connect ECONNREFUSED/)

  const auth = new NetworkError('Connection to kafka-1:9096 failed.', {
    cause: new LibraryAuthenticationError('SASL authentication failed.')
  })
  const translated = translateKafkaError(auth, { operation: 'metadata', mechanism: 'SCRAM-SHA-256' })
  assert.ok(translated instanceof AuthenticationError)
  assert.equal(translated.broker, 'kafka-1:9096')
  assert.equal(translated.mechanism, 'SCRAM-SHA-256')
})

test('authentication failures name the user; TLS failures name the broker and the cause', () => {
  const auth = new MultipleErrors('metadata failed.', [
    new NetworkError('Connection to kafka-1:9096 failed.', {
      cause: new LibraryAuthenticationError('SASL authentication failed.')
    })
  ])
  const translated = translateKafkaError(auth, { operation: 'metadata', mechanism: 'SCRAM-SHA-512', username: 'alice' })
  assert.ok(translated instanceof AuthenticationError)
  assert.match(
    translated.message,
    /authentication for user alice with broker kafka-1:9096 failed \(SASL mechanism SCRAM-SHA-512\)/
  )

  const tlsCause = (code: string, message: string) => Object.assign(new Error(message), { code })
  const untrusted = translateKafkaError(
    new NetworkError('Connection to 10.0.0.7:9093 failed.', {
      cause: tlsCause('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain')
    }),
    { operation: 'metadata', brokers: ['seed:9093'] }
  )
  assert.ok(untrusted instanceof BrokerTlsError)
  assert.equal(untrusted.code, 'STREAMLANE_KAFKA_TLS')
  assert.equal(untrusted.broker, '10.0.0.7:9093')
  assert.match(untrusted.message, /Kafka broker 10\.0\.0\.7:9093 failed: its certificate is not trusted: self-signed/)
  assert.match(untrusted.message, /KAFKA_SSL_CA_FILE/)

  const wrongHost = translateKafkaError(
    new NetworkError('Connection to kafka.example:9093 failed.', {
      cause: tlsCause('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames")
    }),
    { operation: 'metadata' }
  )
  assert.ok(wrongHost instanceof BrokerTlsError)
  assert.match(wrongHost.message, /does not match the host name/)
})

test('timeouts, closed clients and anything else', () => {
  const timeout = translateKafkaError(new TimeoutError('Request timed out'), { operation: 'fetch', deadlineMs: 100 })
  assert.ok(timeout instanceof KafkaTimeoutError && timeout.operation === 'fetch' && timeout.deadlineMs === 100)

  const closed = translateKafkaError(new NetworkError('Client is closed.', { closed: true }), {
    operation: 'listGroups'
  })
  assert.ok(closed instanceof KafkaClosedError)

  const other = translateKafkaError(response(0, { '/responses/0/partitions/0': 10 }), { operation: 'send' })
  assert.ok(other instanceof KafkaRequestError)
  assert.equal(other.kafkaCode, 'MESSAGE_TOO_LARGE')
  assert.match(other.message, /send failed: MESSAGE_TOO_LARGE/)

  const retriable = translateKafkaError(new ProtocolError('NOT_LEADER_OR_FOLLOWER'), { operation: 'send' })
  assert.ok(retriable instanceof KafkaRequestError && retriable.retriable)

  const plain = translateKafkaError(new Error('boom'), { operation: 'x' })
  assert.match(plain.message, /x failed: boom/)
  assert.equal(translateKafkaError(plain, { operation: 'y' }), plain, 'Streamlane errors pass through')
})
