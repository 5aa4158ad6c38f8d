/**
 * The slow-consumer case that breaks naive lag-based scaling: every record takes 1 s, and instances are added and
 * stopped every few seconds. Rebalances commit before handing tasks over, so no record is processed twice, and the
 * tasks that stay keep running, so the group keeps making progress through the churn.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createAdmin } from '../../../src/kafka/admin.ts'
import type { ConsumedRecord } from '../../../src/kafka/types.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from './instances.ts'
import { createTopics, produceNumbered, readTopic } from './support.ts'

const RECORDS = 60
const PARTITIONS = 6
const module = fileURLToPath(new URL('./fixtures/slow-app.ts', import.meta.url))

test('a 1 s-per-record app under constant scaling processes every record exactly once and keeps progressing', async () => {
  const input = uniqueName('slow-in')
  const output = uniqueName('slow-out')
  const appId = uniqueName('slow-app')
  await createTopics([
    { name: input, partitions: PARTITIONS },
    { name: output, partitions: PARTITIONS }
  ])
  await produceNumbered(input, RECORDS)
  const admin = createAdmin({ brokers: testBrokers() })
  const outputCount = async () => {
    let total = 0n
    for (const offset of (await admin.listOffsets([{ topic: output }], 'latest')).get(output)!.values()) total += offset
    return Number(total)
  }

  let started = 0
  const start = () =>
    new AppInstance(`slow-${++started}`, module, {
      STREAMLANE_APPLICATION_ID: appId,
      INPUT_TOPIC: input,
      OUTPUT_TOPIC: output,
      PER_RECORD_MS: '1000',
      // Nothing is killed here: a long session keeps a member starved of CPU on a loaded machine in the group.
      STREAMLANE_SESSION_TIMEOUT_MS: '20000',
      STREAMLANE_HEARTBEAT_INTERVAL_MS: '1000'
    })
  const all: AppInstance[] = []
  const running: AppInstance[] = []
  const add = () => {
    const instance = start()
    all.push(instance)
    running.push(instance)
    return instance
  }
  try {
    add()
    add()
    await waitFor('two instances running tasks', () => running.every((i) => i.runningAssignment()), {
      timeoutMs: 60_000
    })
    const progress: number[] = [await outputCount()]
    // Six scaling steps, one every 4 s: add, remove, add, remove, ...
    for (let step = 0; step < 6; step++) {
      const before = Date.now()
      if (step % 2 === 0) {
        add()
      } else {
        const oldest = running.shift()!
        oldest.signal('SIGTERM')
        assert.equal(await oldest.exited, 0, `${oldest.name} exits cleanly on SIGTERM:\n${oldest.log.slice(-1500)}`)
      }
      await waitFor('4 s to pass', () => Date.now() - before >= 4_000, { timeoutMs: 10_000 })
      progress.push(await outputCount())
    }
    // The group made progress through the churn: far more than one instance's 1 record/s would stall to.
    const duringChurn = progress.at(-1)! - progress[0]!
    assert.ok(duringChurn >= 12, `records processed during 24 s of scaling: ${duringChurn} (${progress.join(' -> ')})`)

    const records = await readTopic(output, PARTITIONS, (r) => r.length >= RECORDS, 120_000)
    for (const instance of running) instance.signal('SIGTERM')
    for (const instance of running) assert.equal(await instance.exited, 0)
    const keys = records.map((r) => r.key!.toString())
    assert.equal(new Set(keys).size, RECORDS, 'every input record produced an output')
    const total = await outputCount()
    if (total !== RECORDS) assert.fail(await duplicatesReport(output, total, all))
  } finally {
    await killAll(all)
    await admin.close()
  }
})

/** Which records were output twice, by which instances (the output value names the pid), and every instance's log. */
async function duplicatesReport(output: string, total: number, instances: AppInstance[]): Promise<string> {
  const byKey = new Map<string, ConsumedRecord[]>()
  for (const r of await readTopic(output, PARTITIONS, (rs) => rs.length >= total, 30_000))
    byKey.set(r.key!.toString(), [...(byKey.get(r.key!.toString()) ?? []), r])
  const twice = [...byKey]
    .filter(([, rs]) => rs.length > 1)
    .map(
      ([key, rs]) => `${key}: ${rs.map((r) => `${r.value} (partition ${r.partition} offset ${r.offset})`).join(', ')}`
    )
  const logs = instances.map((i) => `--- ${i.name} (pid ${i.child.pid}):\n${i.log}`)
  return `no record was processed twice: ${total} outputs for ${RECORDS} records\n${twice.join('\n')}\n${logs.join('\n')}`
}
