import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AcknowledgementLedger, addRequestPartition } from '../../../src/kafka/share/acknowledgement-ledger.ts'
import { acknowledgeTypeCode } from '../../../src/kafka/share/acknowledgements.ts'
import type { ShareTopicRequest } from '../../../src/kafka/share/share-apis.ts'
import type { ShareRecord } from '../../../src/kafka/share/share-types.ts'

function record(offset: bigint): ShareRecord {
  return { topic: 'orders', partition: 2, offset, deliveryCount: 1 } as ShareRecord
}

test('a delivered record is acknowledged once; the acknowledgement waits under its session partition', () => {
  const ledger = new AcknowledgementLedger()
  ledger.delivered('topic-id', record(5n))
  ledger.acknowledge(record(5n), 'release')
  assert.throws(() => ledger.acknowledge(record(5n), 'accept'), /orders-2@5 was not delivered/)
  assert.deepEqual([...ledger.pendingPartitions()], ['topic-id:2'])
  assert.deepEqual(ledger.take('topic-id:2'), new Map([[5n, acknowledgeTypeCode('release')]]))
  assert.equal(ledger.take('topic-id:2'), undefined)
})

test('acknowledgements a failed request took come back, unless the offset was acknowledged again meanwhile', () => {
  const ledger = new AcknowledgementLedger()
  ledger.delivered('t', record(1n))
  ledger.delivered('t', record(2n))
  ledger.acknowledgeDelivered('accept')
  const taken = ledger.take('t:2')
  assert.ok(taken)
  ledger.add('t', 2, 2n, acknowledgeTypeCode('reject'))
  ledger.restore('t:2', taken)
  const accept = acknowledgeTypeCode('accept')
  assert.deepEqual(
    ledger.take('t:2'),
    new Map([
      [2n, acknowledgeTypeCode('reject')],
      [1n, accept]
    ])
  )
})

test('request partitions are grouped by topic id, with acknowledgement batches only where there are acknowledgements', () => {
  const topics = new Map<string, ShareTopicRequest>()
  addRequestPartition(topics, 'a:0', undefined)
  addRequestPartition(topics, 'a:1', new Map([[7n, acknowledgeTypeCode('accept')]]))
  addRequestPartition(topics, 'b:3', undefined)
  assert.deepEqual(
    [...topics.values()].map((t) => [
      t.topicId,
      t.partitions.map((p) => [p.partitionIndex, p.acknowledgementBatches.length])
    ]),
    [
      [
        'a',
        [
          [0, 0],
          [1, 1]
        ]
      ],
      ['b', [[3, 0]]]
    ]
  )
})
