/**
 * Records longer than the group's timeouts (issue 16): a record of twice the session timeout is neither replayed nor
 * makes the member leave; and when a rebalance takes a task away while its record runs past the rebalance timeout,
 * the member stays in the group, closes that task without committing, and writes nothing for it: the new owner
 * processes the record again and every record has exactly one output.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin } from '../../../src/kafka/admin.ts'
import { createProducer } from '../../../src/kafka/producer.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { committedInput, createTopics, readTopic, topicEnd } from './support.ts'

const PARTITIONS = 12
const SESSION_MS = 4_000
/** Each record takes about twice the session and the rebalance timeouts. */
const RECORD_MS = 2 * SESSION_MS + 1_000
const slowApp = fileURLToPath(new URL('./fixtures/slow-app.ts', import.meta.url))

/** One record per partition, values `from` .. `from + 11`. */
async function produceRound(topic: string, from: number): Promise<void> {
  const producer = createProducer({ brokers: testBrokers() })
  try {
    await producer.send(
      Array.from({ length: PARTITIONS }, (_, partition) => ({
        topic,
        partition,
        key: Buffer.from(`k${from + partition}`),
        value: Buffer.from(String(from + partition))
      }))
    )
  } finally {
    await producer.close()
  }
}

const count = (log: string, msg: string) => log.split(`"msg":"${msg}"`).length - 1

for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
  test(`${guarantee}: records longer than the session and rebalance timeouts are neither replayed nor written twice`, async () => {
    const input = uniqueName('long-in')
    const output = uniqueName('long-out')
    const appId = uniqueName('long-app')
    await createTopics([
      { name: input, partitions: PARTITIONS },
      { name: output, partitions: PARTITIONS }
    ])
    const admin = createAdmin({ brokers: testBrokers() })
    const env = {
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      PER_RECORD_MS: String(RECORD_MS),
      STREAMLANE_PROCESSING_GUARANTEE: guarantee,
      STREAMLANE_SESSION_TIMEOUT_MS: String(SESSION_MS),
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000',
      STREAMLANE_REBALANCE_TIMEOUT_MS: String(SESSION_MS),
      // A record must fit in a transaction.
      STREAMLANE_TRANSACTION_TIMEOUT_MS: '30000',
      LOG_RECORD_START: '1'
    }
    const instances: AppInstance[] = []
    try {
      // Round 1, one instance: 12 records of twice the session timeout run at once and finish, once each.
      await produceRound(input, 0)
      const first = new AppInstance('long-1', slowApp, env)
      instances.push(first)
      await waitFor('round 1 committed', async () => (await committedInput(admin, appId, input)) === PARTITIONS, {
        timeoutMs: 60_000
      })
      if (guarantee === 'at_least_once') assert.equal(await topicEnd(admin, output), PARTITIONS, 'round 1 written once')
      assert.equal(count(first.log, 'assignment running'), 1, `no rebalance during round 1:\n${first.log}`)

      // Round 2: a second instance joins while every task of the first has a record in flight; the revoked tasks'
      // records outlive half the rebalance timeout.
      const mark = first.log.length
      await produceRound(input, PARTITIONS)
      // The premise: every round-2 record is in flight on the first instance before the second one joins (on a busy
      // machine the first instance's next fetch can come after the second instance's join).
      await waitFor(
        'every round-2 record in flight on the first instance',
        () => count(first.log.slice(mark), 'record started') === PARTITIONS,
        { timeoutMs: 30_000, intervalMs: 50 }
      )
      const second = new AppInstance('long-2', slowApp, env)
      instances.push(second)
      await waitFor('round 2 committed', async () => (await committedInput(admin, appId, input)) === 2 * PARTITIONS, {
        timeoutMs: 90_000
      })
      for (const instance of instances) {
        assert.equal(instance.child.exitCode, null, `${instance.name} is still running:\n${instance.log.slice(-3000)}`)
        assert.doesNotMatch(instance.log, /processing stopped on an error/)
      }
      assert.ok(second.runningAssignment(), 'the group scaled out during the long records')
      assert.match(
        first.log.slice(mark),
        /records still in flight at revocation/,
        `the first instance gave up records in flight:\n${first.log.slice(mark)}`
      )
      for (const instance of instances) instance.signal('SIGTERM')
      for (const instance of instances) assert.equal(await instance.exited, 0, instance.log.slice(-2000))
      const records = await readTopic(output, PARTITIONS, (r) => r.length >= 2 * PARTITIONS)
      const keys = records.map((r) => r.key!.toString())
      assert.equal(new Set(keys).size, 2 * PARTITIONS, 'every record has an output')
      assert.equal(keys.length, 2 * PARTITIONS, 'no record has two')
      if (guarantee === 'at_least_once')
        assert.equal(await topicEnd(admin, output), 2 * PARTITIONS, 'nothing written twice')
      const gaveUp = first.log.slice(mark).match(/"tasks":(\[[^\]]*\]),"uncommitted"/)
      console.log(
        `${guarantee}: records of ${RECORD_MS} ms, session and rebalance timeouts ${SESSION_MS} ms; tasks given up in flight: ${gaveUp?.[1] ?? 'none'}`
      )
    } finally {
      await killAll(instances)
      await admin.close()
    }
  })
}
