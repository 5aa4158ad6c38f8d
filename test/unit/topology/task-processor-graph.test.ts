import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Headers, Serdes } from '../../../src/serde/index.ts'
import type {
  Processor,
  ProcessorContext,
  ProducedRecord,
  RawRecord,
  RecordCollector,
  RecordMetadata,
  StateStore,
  StoreBuilder
} from '../../../src/topology/index.ts'
import { planTopology, TaskId, TaskProcessorGraph, TaskStateError, Topology } from '../../../src/topology/index.ts'

function collector(): RecordCollector & { sent: ProducedRecord[] } {
  const sent: ProducedRecord[] = []
  return { sent, send: (record) => sent.push(record), partitionCount: () => 4 }
}

function raw(topic: string, partition: number, offset: number, timestamp: number, value: string): RawRecord {
  return {
    topic,
    partition,
    offset,
    timestamp,
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(value),
    headers: Headers.empty
  }
}

function drain(task: TaskProcessorGraph): number {
  let count = 0
  while (task.processNext() === true) count++
  return count
}

async function drainAsync(task: TaskProcessorGraph): Promise<number> {
  let count = 0
  while (await task.processNext()) count++
  return count
}

describe('TaskProcessorGraph', () => {
  test('processes the partitions of a task in timestamp order and tracks offsets to commit', () => {
    const seen: RecordMetadata[] = []
    const topology = new Topology()
      .addSource('left', 'left', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .addSource('right', 'right', { keySerde: Serdes.string(), valueSerde: Serdes.string() })
      .addProcessor(
        'observe',
        (): Processor<string, string, string, string> => {
          let context: ProcessorContext<string, string>
          return {
            init: (c) => {
              context = c
            },
            process: (record) => {
              seen.push(context.recordMetadata()!)
              return context.forward({ ...record, value: record.value.toUpperCase() })
            }
          }
        },
        'left',
        'right'
      )
      .addSink('out', 'out', { keySerde: Serdes.string(), valueSerde: Serdes.string() }, 'observe')
    const out = collector()
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 2),
      collector: out
    })
    task.init()
    assert.deepEqual(task.inputPartitions(), [
      { topic: 'left', partition: 2 },
      { topic: 'right', partition: 2 }
    ])

    task.addRecords([raw('left', 2, 0, 10, 'a'), raw('left', 2, 1, 30, 'c'), raw('left', 2, 2, 50, 'e')])
    task.addRecords([raw('right', 2, 7, 20, 'b'), raw('right', 2, 8, 40, 'd')])
    assert.equal(task.totalBuffered, 5)

    assert.equal(drain(task), 5)
    assert.deepEqual(
      seen.map((m) => `${m.topic}@${m.offset}`),
      ['left@0', 'right@7', 'left@1', 'right@8', 'left@2']
    )
    assert.deepEqual(
      out.sent.map((r) => [r.topic, r.value!.toString(), r.timestamp]),
      [
        ['out', 'A', 10],
        ['out', 'B', 20],
        ['out', 'C', 30],
        ['out', 'D', 40],
        ['out', 'E', 50]
      ]
    )
    assert.deepEqual(task.consumedOffsets(), [
      { topic: 'left', partition: 2, offset: 3 },
      { topic: 'right', partition: 2, offset: 9 }
    ])
    assert.equal(task.streamTimeMs, 50)
    assert.equal(task.counters.processed, 5)
    assert.throws(() => task.addRecords([raw('left', 3, 0, 0, 'x')]), /partition left-3 is not an input of this task/)
  })

  test('stream-time punctuators fire on the interval grid, once per advance, and can be cancelled', () => {
    const fired: number[] = []
    let cancel = (): void => {}
    const topology = new Topology().addSource('src', 'in').addProcessor(
      'p',
      (): Processor<unknown, unknown> => ({
        init(context) {
          cancel = context.schedule(10_000, 'stream-time', (ts) => {
            fired.push(ts)
          }).cancel
        },
        process() {}
      }),
      'src'
    )
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 0),
      collector: collector()
    })
    task.init()
    const at = (offset: number, ts: number): void => {
      task.addRecords([raw('in', 0, offset, ts, 'v')])
      drain(task)
    }
    at(0, 1_000)
    at(1, 5_000)
    at(2, 10_000)
    at(3, 12_000)
    at(4, 35_000)
    at(5, 36_000)
    assert.deepEqual(fired, [1_000, 10_000, 35_000])
    cancel()
    at(6, 99_000)
    assert.deepEqual(fired, [1_000, 10_000, 35_000])
  })

  test('wall-clock punctuators fire one interval after scheduling, then on their grid, outside of any record', () => {
    let now = 500
    const fired: Array<[number, RecordMetadata | null]> = []
    const topology = new Topology()
      .addSource('src', 'in')
      .addProcessor(
        'ticker',
        (): Processor<unknown, unknown, Buffer, Buffer> => {
          let context: ProcessorContext<Buffer, Buffer>
          return {
            init(c) {
              context = c
              c.schedule(1_000, 'wall-clock', (ts) => {
                fired.push([ts, context.recordMetadata()])
                return context.forward({
                  key: null as never,
                  value: Buffer.from(`tick ${ts}`),
                  timestamp: ts,
                  headers: Headers.empty
                })
              })
            },
            process() {}
          }
        },
        'src'
      )
      .addSink('ticks', 'ticks', {}, 'ticker')
    const out = collector()
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 0),
      collector: out,
      wallClock: () => now
    })
    task.init()
    assert.equal(task.punctuateWallClock(1_499), false)
    assert.equal(task.punctuateWallClock(1_500), true)
    now = 4_000
    assert.equal(task.punctuateWallClock(), true)
    assert.equal(task.punctuateWallClock(4_499), false)
    assert.equal(task.punctuateWallClock(4_500), true)
    assert.deepEqual(fired, [
      [1_500, null],
      [4_000, null],
      [4_500, null]
    ])
    assert.deepEqual(
      out.sent.map((r) => r.value!.toString()),
      ['tick 1500', 'tick 4000', 'tick 4500']
    )
    assert.equal(task.counters.punctuations, 3)
  })

  test('waits for asynchronous processors, including forwards nobody awaited, before the next record', async () => {
    const events: string[] = []
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
    const topology = new Topology()
      .addSource('src', 'in', { valueSerde: Serdes.string() })
      .addProcessor(
        'slow',
        (): Processor<Buffer, string, Buffer, string> => {
          let context: ProcessorContext<Buffer, string>
          return {
            init: (c) => {
              context = c
            },
            async process(record) {
              events.push(`start ${record.value}`)
              await sleep(record.value === 'first' ? 20 : 1)
              void context.forward(record) // not awaited on purpose: the task must wait anyway
            }
          }
        },
        'src'
      )
      .addProcessor(
        'slower-child',
        (): Processor<Buffer, string> => ({
          async process(record) {
            await sleep(10)
            events.push(`child ${record.value}`)
          }
        }),
        'slow'
      )
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 0),
      collector: collector()
    })
    task.init()
    task.addRecords([raw('in', 0, 0, 1, 'first'), raw('in', 0, 1, 2, 'second')])
    const pending = task.processNext()
    assert.ok(pending instanceof Promise)
    assert.throws(() => task.processNext(), TaskStateError)
    assert.equal(await pending, true)
    assert.deepEqual(events, ['start first', 'child first'])
    assert.equal(await drainAsync(task), 1)
    assert.deepEqual(events, ['start first', 'child first', 'start second', 'child second'])
    assert.deepEqual(task.consumedOffsets(), [{ topic: 'in', partition: 0, offset: 2 }])
  })

  test('forwards to a named child only, and names the children when the name is wrong', () => {
    const topology = new Topology()
      .addSource('src', 'in', { valueSerde: Serdes.string() })
      .addProcessor(
        'router',
        (): Processor<Buffer, string, Buffer, string> => {
          let context: ProcessorContext<Buffer, string>
          return {
            init: (c) => {
              context = c
            },
            process: (record) => context.forward(record, record.value)
          }
        },
        'src'
      )
      .addSink('even', 'even', { valueSerde: Serdes.string() }, 'router')
      .addSink('odd', 'odd', { valueSerde: Serdes.string() }, 'router')
    const out = collector()
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 0),
      collector: out
    })
    task.init()
    task.addRecords([raw('in', 0, 0, 1, 'odd'), raw('in', 0, 1, 2, 'even'), raw('in', 0, 2, 3, 'neither')])
    assert.throws(() => drain(task), {
      name: 'ProcessingError',
      message:
        'processor router of task 0_0 failed on the record at topic in partition 0 offset 2: ' +
        'router has no child named neither (children: even, odd)'
    })
    assert.deepEqual(
      out.sent.map((r) => r.topic),
      ['odd', 'even']
    )
    assert.equal(task.counters.processed, 2)
    assert.deepEqual(
      task.consumedOffsets(),
      [{ topic: 'in', partition: 0, offset: 2 }],
      'the failed record is not committed'
    )
    assert.throws(() => task.processNext(), {
      name: 'TaskStateError',
      message: 'task 0_0: cannot call processNext(): the task is failed'
    })
  })

  test('stores are built per task, opened with their changelog, reachable only by connected processors, closed on close', () => {
    const events: string[] = []
    const builder: StoreBuilder = {
      name: 'counts',
      loggingEnabled: true,
      changelogConfig: {},
      build: (): StateStore => ({
        name: 'counts',
        persistent: false,
        init: (context) => events.push(`init ${context.taskId} ${context.changelogTopic}`),
        flush: () => events.push('flush'),
        close: () => events.push('close')
      })
    }
    let denied: unknown
    const topology = new Topology()
      .addSource('src', 'in')
      .addProcessor(
        'user',
        (): Processor<unknown, unknown> => ({
          init: (context) => {
            events.push(`got ${context.getStateStore('counts').name}`)
            context.requestCommit()
          },
          process() {}
        }),
        'src'
      )
      .addProcessor(
        'stranger',
        (): Processor<unknown, unknown> => ({
          init: (context) => {
            try {
              context.getStateStore('counts')
            } catch (error) {
              denied = error
            }
          },
          process() {}
        }),
        'src'
      )
      .addStateStore(builder, 'user')
    const task = new TaskProcessorGraph({
      plan: planTopology(topology, 'app'),
      taskId: new TaskId(0, 5),
      collector: collector()
    })
    task.init()
    task.flush()
    task.close()
    assert.deepEqual(events, ['init 0_5 app-counts-changelog', 'got counts', 'flush', 'close'])
    assert.match(String(denied), /processor stranger has no access to state store counts/)
    assert.equal(task.takeCommitRequest(), true)
    assert.equal(task.takeCommitRequest(), false)
  })
})
