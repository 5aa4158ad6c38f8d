import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { changeSerde, Materialized, Serdes, StreamsBuilder } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'

const str = Serdes.string()
const int = Serdes.int32()

/** Users and the region each lives in; aggregations per region. */
function regions(aggregate: (builder: StreamsBuilder) => void) {
  const builder = new StreamsBuilder()
  aggregate(builder)
  const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
  return { d, users: d.createInputTopic('users', str, str) }
}

function table(d: TopologyTestDriver, store: string): Record<string, unknown> {
  return Object.fromEntries([...d.getKeyValueStore<string, unknown>(store).all()].map(({ key, value }) => [key, value]))
}

describe('KTable.groupBy() and table aggregations', () => {
  test('count: a user moving to another region leaves the old one (subtract) and joins the new one (add)', async () => {
    const { d, users } = regions((b) =>
      b
        .table('users', { keySerde: str, valueSerde: str })
        .groupBy((_, region) => [region, region] as const, { keySerde: str, valueSerde: str })
        .count(Materialized.as('users-per-region'))
        .toStream()
        .to('region-counts', { valueSerde: Serdes.long() })
    )
    try {
      await users.pipeInput('ann', 'eu', 1)
      await users.pipeInput('bob', 'eu', 2)
      await users.pipeInput('cy', 'us', 3)
      assert.deepEqual(table(d, 'users-per-region'), { eu: 2n, us: 1n })
      await users.pipeInput('bob', 'us', 4)
      assert.deepEqual(table(d, 'users-per-region'), { eu: 1n, us: 2n })
      await users.pipeInput('ann', null as unknown as string, 5) // deleted: subtracted, the group stays at 0
      assert.deepEqual(table(d, 'users-per-region'), { eu: 0n, us: 2n })
      const out = d.createOutputTopic('region-counts', str, Serdes.long()).readKeyValuesToList()
      assert.deepEqual(
        out.map(({ key, value }) => `${key}=${value}`),
        ['eu=1', 'eu=2', 'us=1', 'eu=1', 'us=2', 'eu=0']
      )
    } finally {
      await d.close()
    }
  })

  test('an update within the same group is one record with new and old value on the repartition topic', async () => {
    const { d, users } = regions((b) =>
      b
        .table('users', { keySerde: str, valueSerde: str })
        .groupBy((_, value) => [value.split('/')[0]!, value] as const, {
          name: 'by-region',
          keySerde: str,
          valueSerde: str
        })
        .count(Materialized.as('per-region'))
    )
    try {
      await users.pipeInput('ann', 'eu/paris', 1)
      await users.pipeInput('ann', 'eu/rome', 2)
      const repartition = d.createOutputTopic('app-by-region-repartition', str, changeSerde(str))
      assert.deepEqual(repartition.readKeyValuesToList(), [
        { key: 'eu', value: { newValue: 'eu/paris', oldValue: null } },
        { key: 'eu', value: { newValue: 'eu/rome', oldValue: 'eu/paris' } }
      ])
      assert.deepEqual(table(d, 'per-region'), { eu: 1n })
    } finally {
      await d.close()
    }
  })

  test('reduce(adder, subtractor) keeps a sum exact through updates and deletes', async () => {
    const builder = new StreamsBuilder()
    builder
      .table('balances', { keySerde: str, valueSerde: int })
      .groupBy((account, balance) => [account.split('-')[0]!, balance] as const, { keySerde: str, valueSerde: int })
      .reduce(
        (total, balance) => total + balance,
        (total, balance) => total - balance,
        Materialized.as('per-customer')
      )
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'app' })
    try {
      const balances = d.createInputTopic('balances', str, int)
      await balances.pipeInput('ann-1', 100, 1)
      await balances.pipeInput('ann-2', 50, 2)
      await balances.pipeInput('bob-1', 10, 3)
      await balances.pipeInput('ann-1', 70, 4)
      await balances.pipeInput('ann-2', null as unknown as number, 5)
      assert.deepEqual(table(d, 'per-customer'), { ann: 70, bob: 10 })
    } finally {
      await d.close()
    }
  })

  test('aggregate(initializer, adder, subtractor) with its own value serde', async () => {
    const { d, users } = regions((b) =>
      b
        .table('users', { keySerde: str, valueSerde: str })
        .groupBy((user, region) => [region, user] as const, { keySerde: str, valueSerde: str })
        .aggregate<string[]>(
          () => [],
          (_, user, members) => [...members, user].sort(),
          (_, user, members) => members.filter((m) => m !== user),
          Materialized.as('members', { valueSerde: Serdes.json<string[]>() })
        )
    )
    try {
      await users.pipeInput('ann', 'eu', 1)
      await users.pipeInput('bob', 'eu', 2)
      await users.pipeInput('ann', 'us', 3)
      assert.deepEqual(table(d, 'members'), { eu: ['bob'], us: ['ann'] })
    } finally {
      await d.close()
    }
  })

  test('the re-grouping needs the serdes of the new key and value', () => {
    const builder = new StreamsBuilder()
    const grouped = builder
      .table('users', { keySerde: str, valueSerde: str })
      .groupBy((_, region) => [region, 1] as const)
    assert.throws(() => grouped.count(), /the key serde is not known.*pass keySerde in Grouped/)
  })
})

describe('changeSerde', () => {
  test('round-trips every shape of change', () => {
    const serde = changeSerde(str)
    for (const change of [
      { newValue: 'a', oldValue: 'b' },
      { newValue: 'a', oldValue: null },
      { newValue: null, oldValue: 'b' },
      { newValue: null, oldValue: null },
      { newValue: '', oldValue: '' }
    ]) {
      assert.deepEqual(serde.deserialize('t', serde.serialize('t', change)), change)
    }
    assert.equal(serde.serialize('t', null), null)
    assert.throws(() => serde.deserialize('t', Buffer.from([3, 0, 0])), /truncated/)
  })
})
