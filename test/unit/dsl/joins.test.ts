import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { JoinWindows, Serdes, StreamsBuilder, TimeWindows } from '../../../src/index.ts'
import { TopologyTestDriver } from '../../../src/testing/index.ts'
import { checkCopartitioning, type ProcessorContext } from '../../../src/topology/index.ts'

const str = Serdes.string()
const strings = { keySerde: str, valueSerde: str }

function driver(build: (b: StreamsBuilder) => void) {
  const b = new StreamsBuilder()
  build(b)
  const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
  return {
    d,
    left: d.createInputTopic('left', str, str),
    right: d.createInputTopic('right', str, str),
    out: () =>
      d
        .createOutputTopic('out', str, str)
        .readRecordsToList()
        .map((r) => [r.key, r.value, r.timestamp])
  }
}

const pair = (v: string | null, o: string | null) => `${v}+${o}`

describe('stream-table joins', () => {
  test('join: each order gets the customer current at its time; table updates emit nothing', async () => {
    const { d, left, right, out } = driver((b) => {
      const customers = b.table('right', strings)
      b.stream('left', strings).join(customers, pair).to('out', strings)
    })
    try {
      await left.pipeInput('c1', 'o1', 1) // no customer yet: no output
      await right.pipeInput('c1', 'ann', 2)
      await left.pipeInput('c1', 'o2', 3)
      await right.pipeInput('c1', 'ann2', 4)
      await left.pipeInput('c1', 'o3', 5)
      await right.pipeInput('c1', null as unknown as string, 6) // deleted
      await left.pipeInput('c1', 'o4', 7)
      assert.deepEqual(out(), [
        ['c1', 'o2+ann', 3],
        ['c1', 'o3+ann2', 5]
      ])
    } finally {
      await d.close()
    }
  })

  test('leftJoin: unmatched records join with null; null values dropped, null keys joined with null', async () => {
    const { d, left, right, out } = driver((b) => {
      const customers = b.table('right', strings)
      b.stream('left', strings).leftJoin(customers, pair).to('out', strings)
    })
    try {
      await left.pipeInput('c1', 'o1', 1)
      await right.pipeInput('c1', 'ann', 2)
      await left.pipeInput('c1', 'o2', 3)
      await left.pipeInput('c1', null as unknown as string, 4)
      await left.pipeInput(null as unknown as string, 'o5', 5)
      assert.deepEqual(out(), [
        ['c1', 'o1+null', 1],
        ['c1', 'o2+ann', 3],
        [null, 'o5+null', 5]
      ])
    } finally {
      await d.close()
    }
  })

  test('a key change before the join repartitions the stream; the join shares the table sub-topology', () => {
    const b = new StreamsBuilder()
    const customers = b.table('right', strings)
    b.stream('left', strings)
      .selectKey((_k, v) => v)
      .join(customers, pair, { name: 'enrich' })
      .to('out', strings)
    const description = b.build().describe().toString()
    assert.match(description, /enrich-repartition/)
    const joinSub = description.split('Sub-topology').find((s) => s.includes('Processor: enrich '))
    assert.ok(joinSub?.includes('right'), description)
  })

  test('co-partitioning: differing partition counts of the joined topics name each topic and count', () => {
    assert.throws(
      () => checkCopartitioning([{ subtopology: 0, topics: ['left', 'right'] }], { left: 3, right: 2 }),
      (e: Error & { code?: string }) =>
        e.code === 'STREAMLANE_COPARTITIONING_FAILED' && /left has 3 partitions, right has 2 partitions/.test(e.message)
    )
  })
})

describe('stream-stream joins', () => {
  const windows = JoinWindows.ofTimeDifferenceAndGrace(10, 5)

  test('join: records of the same key within the window join both ways, stamped with the later time', async () => {
    const { d, left, right, out } = driver((b) => {
      b.stream('left', strings).join(b.stream('right', strings), pair, windows).to('out', strings)
    })
    try {
      await left.pipeInput('k', 'a', 100)
      await right.pipeInput('k', 'x', 105)
      await right.pipeInput('k', 'y', 120) // outside [90, 110] of a
      await left.pipeInput('k', 'b', 112) // joins x (105) and y (120)
      assert.deepEqual(out(), [
        ['k', 'a+x', 105],
        ['k', 'b+x', 112],
        ['k', 'b+y', 120]
      ])
    } finally {
      await d.close()
    }
  })

  test('leftJoin: an unmatched record is emitted with null only once its window closed (no early null)', async () => {
    const { d, left, right, out } = driver((b) => {
      b.stream('left', strings).leftJoin(b.stream('right', strings), pair, windows).to('out', strings)
    })
    try {
      await left.pipeInput('k', 'a', 100)
      await left.pipeInput('j', 'b', 101)
      assert.deepEqual(out(), []) // no spurious a+null
      await right.pipeInput('k', 'x', 108) // a matched: never emitted with null
      await right.pipeInput('q', 'z', 200) // window of b (101 + 10 + 5) closed
      assert.deepEqual(out(), [
        ['k', 'a+x', 108],
        ['j', 'b+null', 101]
      ])
    } finally {
      await d.close()
    }
  })

  test('outerJoin: unmatched records of both sides are emitted when their windows close', async () => {
    const { d, left, right, out } = driver((b) => {
      b.stream('left', strings).outerJoin(b.stream('right', strings), pair, windows).to('out', strings)
    })
    try {
      await left.pipeInput('k', 'a', 100)
      await right.pipeInput('j', 'x', 101)
      await left.pipeInput('z', 'end', 300)
      assert.deepEqual(out(), [
        ['k', 'a+null', 100],
        ['j', 'null+x', 101]
      ])
    } finally {
      await d.close()
    }
  })

  test('describe: window stores on both sides, changelogged, and the shared store of a left join', () => {
    const b = new StreamsBuilder()
    b.stream('left', strings)
      .leftJoin(b.stream('right', strings), pair, windows, { storeName: 'pay' })
      .to('out', strings)
    const description = b.build().describe().toString()
    for (const store of ['pay-this-join-store', 'pay-other-join-store', 'pay-outer-shared-join-store'])
      assert.match(description, new RegExp(store))
    assert.doesNotMatch(description, /Sub-topology: 1/)
  })
})

describe('table-table joins', () => {
  const build = (kind: 'join' | 'leftJoin' | 'outerJoin') =>
    driver((b) => {
      const left = b.table('left', strings)
      const right = b.table('right', strings)
      // join and leftJoin are overloaded (foreign-key joins): the table-table form is outerJoin's.
      const join = left[kind].bind(left) as typeof left.outerJoin
      join(right, pair).toStream().to('out', strings)
    })

  test('join: a result while both sides have a value, a tombstone when one is deleted', async () => {
    const { d, left, right, out } = build('join')
    try {
      await left.pipeInput('k', 'a', 1)
      await right.pipeInput('k', 'x', 2)
      await left.pipeInput('k', 'b', 3)
      await right.pipeInput('k', null as unknown as string, 4)
      await d.advanceWallClockTime(60_000) // commit: the tables' caches flush
      assert.deepEqual(out(), [
        ['k', 'a+x', 2],
        ['k', 'b+x', 3],
        ['k', null, 4]
      ])
    } finally {
      await d.close()
    }
  })

  test('leftJoin and outerJoin: the missing side is null (a left join ignores right values without a left one)', async () => {
    for (const [kind, expected] of [
      [
        'leftJoin',
        [
          ['k', 'a+null', 1],
          ['k', 'a+x', 2]
        ]
      ],
      [
        'outerJoin',
        [
          ['k', 'a+null', 1],
          ['k', 'a+x', 2],
          ['j', 'null+y', 3]
        ]
      ]
    ] as const) {
      const { d, left, right, out } = build(kind)
      try {
        await left.pipeInput('k', 'a', 1)
        await right.pipeInput('k', 'x', 2)
        await right.pipeInput('j', 'y', 3)
        await d.advanceWallClockTime(60_000)
        assert.deepEqual(out(), expected, kind)
      } finally {
        await d.close()
      }
    }
  })
})

describe('KStream.toTable', () => {
  test('the latest value per key; a null value deletes; re-keyed streams are repartitioned', async () => {
    const b = new StreamsBuilder()
    b.stream('left', strings).toTable({ storeName: 'latest' }).toStream().to('out', strings)
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app', cacheMaxBytes: 0 })
    try {
      const input = d.createInputTopic('left', str, str)
      await input.pipeInput('k', 'a', 1)
      await input.pipeInput('k', 'b', 2)
      await input.pipeInput('j', 'c', 3)
      await input.pipeInput('j', null as unknown as string, 4)
      const store = d.getKeyValueStore<string, string>('latest')
      assert.deepEqual(
        [...store.all()].map(({ key, value }) => [key, value]),
        [['k', 'b']]
      )
      const out = d.createOutputTopic('out', str, str).readKeyValuesToList()
      assert.deepEqual(
        out.map((r) => [r.key, r.value]),
        [
          ['k', 'a'],
          ['k', 'b'],
          ['j', 'c'],
          ['j', null]
        ]
      )
    } finally {
      await d.close()
    }
    const rekeyed = new StreamsBuilder()
    rekeyed
      .stream('left', strings)
      .selectKey((_k, v) => v)
      .toTable({ keySerde: str })
    assert.match(rekeyed.build().describe().toString(), /KSTREAM-TOTABLE-\d+-repartition/)
  })
})

describe('KStream.processValues', () => {
  const build = (changeKey: boolean) => {
    const b = new StreamsBuilder()
    b.stream('left', strings)
      .processValues<string>(() => {
        let context: ProcessorContext<string, string>
        return {
          init: (c) => {
            context = c
          },
          process: (r) => context.forward({ ...r, key: changeKey ? `${r.key}x` : r.key, value: `${r.value}!` })
        }
      })
      .groupByKey()
      .count({ storeName: 'counts' })
    return b.build()
  }

  test('values change, keys and partitioning stay: the count needs no repartition topic', async () => {
    const topology = build(false)
    assert.doesNotMatch(topology.describe().toString(), /repartition/)
    const d = new TopologyTestDriver(topology, { applicationId: 'app', cacheMaxBytes: 0 })
    try {
      const input = d.createInputTopic('left', str, str)
      await input.pipeInput('k', 'a', 1)
      await input.pipeInput('k', 'b', 2)
      assert.equal(d.getKeyValueStore<string, bigint>('counts').get('k'), 2n)
    } finally {
      await d.close()
    }
  })

  test('a processor forwarding another key fails the task with an error saying so', async () => {
    const d = new TopologyTestDriver(build(true), { applicationId: 'app' })
    try {
      assert.throws(() => d.createInputTopic('left', str, str).pipeInput('k', 'a', 1), /processValues keeps keys/)
    } finally {
      await d.close()
    }
  })
})

describe('KTable.transformValues', () => {
  test('a stateful transformer per task, called for deletes with null; materialized keeps its result', async () => {
    const b = new StreamsBuilder()
    b.table('left', strings)
      .transformValues(
        () => {
          let calls = 0
          return { transform: (_k: string, v: string | null) => `${v}#${++calls}` }
        },
        { storeName: 'transformed', valueSerde: str }
      )
      .toStream()
      .to('out', strings)
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app', cacheMaxBytes: 0 })
    try {
      const input = d.createInputTopic('left', str, str)
      await input.pipeInput('k', 'a', 1)
      await input.pipeInput('k', null as unknown as string, 2)
      assert.equal(d.getKeyValueStore<string, string>('transformed').get('k'), 'null#2')
      assert.deepEqual(
        d
          .createOutputTopic('out', str, str)
          .readKeyValuesToList()
          .map((r) => r.value),
        ['a#1', 'null#2']
      )
    } finally {
      await d.close()
    }
  })
})

describe('cogroup', () => {
  test('two grouped streams, each with its aggregator, into one aggregate per key', async () => {
    const b = new StreamsBuilder()
    const clicks = b.stream('left', strings).groupByKey()
    const views = b.stream('right', strings).groupByKey()
    clicks
      .cogroup<string>((_k, v, a) => `${a}c${v}`)
      .cogroup(views, (_k, v, a) => `${a}v${v}`)
      .aggregate(() => '', { storeName: 'activity', valueSerde: str })
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    try {
      await d.createInputTopic('left', str, str).pipeInput('k', '1', 1)
      await d.createInputTopic('right', str, str).pipeInput('k', '2', 2)
      await d.createInputTopic('left', str, str).pipeInput('j', '3', 3)
      const store = d.getKeyValueStore<string, string>('activity')
      assert.equal(store.get('k'), 'c1v2')
      assert.equal(store.get('j'), 'c3')
    } finally {
      await d.close()
    }
  })
})

describe('windowed cogroup', () => {
  test('per window, each input with its aggregator; a record late for its own input is dropped', async () => {
    const b = new StreamsBuilder()
    const clicks = b.stream('left', strings).groupByKey()
    const views = b.stream('right', strings).groupByKey()
    clicks
      .cogroup<string>((_k, v, a) => `${a}c${v}`)
      .cogroup(views, (_k, v, a) => `${a}v${v}`)
      .windowedBy(TimeWindows.ofSizeAndGrace(10, 0))
      // Kept longer than size + grace, so that the store still holds [0, 10) when views update it.
      .aggregate(() => '', { storeName: 'activity', valueSerde: str, retentionMs: 1_000 })
      .toStream()
      .to('out', { keySerde: Serdes.windowed(str, 10), valueSerde: str })
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    try {
      const left = d.createInputTopic('left', str, str)
      const right = d.createInputTopic('right', str, str)
      await left.pipeInput('k', '1', 1)
      await right.pipeInput('k', '2', 5)
      await left.pipeInput('k', '3', 12) // next window; the clicks' stream time closes [0, 10)
      await right.pipeInput('k', '4', 8) // the views' stream time is 5: [0, 10) is still open for views
      await left.pipeInput('k', '5', 9) // late for clicks: dropped
      const out = d.createOutputTopic('out', Serdes.windowed(str, 10), str)
      assert.deepEqual(
        out.readRecordsToList().map((r) => [r.key.window.start, r.value]),
        [
          [0, 'c1'],
          [0, 'c1v2'],
          [10, 'c3'],
          [0, 'c1v2v4']
        ]
      )
      assert.equal(d.droppedRecords('late'), 1)
    } finally {
      await d.close()
    }
  })
})

describe('print', () => {
  test('each record as [label]: key, value; the label defaults to the node name', async () => {
    const b = new StreamsBuilder()
    const lines: string[] = []
    const stream = b.stream('left', strings)
    stream.print({ write: (line) => lines.push(line) })
    stream.print({ label: 'orders', mapper: (k, v) => `${k}=${v}`, write: (line) => lines.push(line) })
    const d = new TopologyTestDriver(b.build(), { applicationId: 'app' })
    try {
      await d.createInputTopic('left', str, str).pipeInput('k', 'v', 1)
      await d.createInputTopic('left', str, str).pipeInput(null as unknown as string, null as unknown as string, 2)
      assert.deepEqual(lines, [
        '[KSTREAM-PRINTER-0000000001]: k, v',
        '[orders]: k=v',
        '[KSTREAM-PRINTER-0000000001]: null, null',
        '[orders]: null=null'
      ])
    } finally {
      await d.close()
    }
  })
})
