/**
 * The scheduler with key-ordered tasks (processingOrder 'key'): several records of a task at once, one per key, the
 * task's limit and the instance's bound, fairness, holds that fill gaps, and punctuators waiting for a boundary.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type KeyedRecord, KeyOrderedQueue, type TakenRecord } from '../../../src/runtime/key-ordered-queue.ts'
import type { KeyOrderedRecords } from '../../../src/runtime/record-scheduler.ts'
import { RecordScheduler } from '../../../src/runtime/record-scheduler.ts'

/** A key-ordered task whose records finish when the test says so. */
class KeyedTask implements KeyOrderedRecords {
  readonly name: string
  restoring = false
  readonly limit: number
  readonly queue = new KeyOrderedQueue<KeyedRecord>()
  readonly running = new Map<string, { taken: TakenRecord<KeyedRecord>; resolve: () => void }>()
  readonly started: string[] = []
  maxRunning = 0
  wallClockDueAt = Number.POSITIVE_INFINITY
  punctuatedWhileRunning = 0
  punctuations = 0
  readonly keyOrdered = this

  constructor(name: string, limit: number, keys: string[]) {
    this.name = name
    this.limit = limit
    keys.forEach((key, offset) => {
      this.queue.add({ topic: name, partition: 0, offset: BigInt(offset), timestamp: offset, key: Buffer.from(key) })
    })
  }

  readonly graph = {
    readyToProcess: () => false,
    processNext: () => false,
    punctuateWallClock: (nowMs = Date.now()) => {
      if (nowMs < this.wallClockDueAt) return false
      if (this.running.size > 0) this.punctuatedWhileRunning++
      this.punctuations++
      this.wallClockDueAt = Number.POSITIVE_INFINITY
      return true
    },
    wallClockDue: (nowMs: number) => nowMs >= this.wallClockDueAt
  }

  startNext(holesOnly: boolean): Promise<boolean> | undefined {
    const taken = this.queue.take(holesOnly)
    if (!taken) return undefined
    const label = `${taken.record.key!.toString()}@${taken.record.offset}`
    this.started.push(label)
    return new Promise<boolean>((resolve) => {
      this.running.set(label, { taken, resolve: () => resolve(true) })
      this.maxRunning = Math.max(this.maxRunning, this.running.size)
    }).then((done) => {
      this.queue.finish(taken)
      return done
    })
  }

  get hasHoles(): boolean {
    return this.queue.hasHoles
  }

  /** Finishes the record `label` (key@offset), or the oldest running one. */
  finish(label?: string): void {
    const name = label ?? this.running.keys().next().value!
    const entry = this.running.get(name)
    assert.ok(entry, `${this.name}: ${name} is not running (running: ${[...this.running.keys()].join(', ')})`)
    this.running.delete(name)
    entry.resolve()
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

test('records of different keys of one task run at once, up to the task limit; a key waits for its previous record', async () => {
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 100 })
  const task = new KeyedTask('t', 3, ['a', 'b', 'a', 'c', 'd', 'e'])
  scheduler.add(task)
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual([...task.running.keys()], ['a@0', 'b@1', 'c@3'], 'a@2 waits for a@0; the limit is 3')
  assert.equal(scheduler.inFlight?.records, 3)
  task.finish('a@0')
  await tick()
  assert.deepEqual([...task.running.keys()], ['b@1', 'c@3', 'a@2'], 'a@2 took the freed place')
  while (task.running.size > 0) {
    task.finish()
    await tick()
  }
  assert.deepEqual(task.started, ['a@0', 'b@1', 'c@3', 'a@2', 'd@4', 'e@5'])
  assert.equal(task.maxRunning, 3)
  assert.equal(scheduler.processed, 6)
  assert.equal(scheduler.isBusy(task), false)
})

test('the instance bound holds over key-ordered tasks, and freed slots go to the task waiting longest', async () => {
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 4 })
  const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
  const tasks = [new KeyedTask('t0', 10, keys), new KeyedTask('t1', 10, keys), new KeyedTask('t2', 10, keys)]
  for (const t of tasks) scheduler.add(t)
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual(
    tasks.map((t) => t.running.size),
    [4, 0, 0],
    't0 filled the bound; t1 and t2 queue'
  )
  tasks[0]!.finish()
  await tick()
  assert.deepEqual(
    tasks.map((t) => t.running.size),
    [3, 1, 0],
    'the freed slot went to t1'
  )
  tasks[0]!.finish()
  await tick()
  assert.deepEqual(
    tasks.map((t) => t.running.size),
    [2, 1, 1]
  )
  for (let i = 0; i < 200 && tasks.some((t) => t.running.size > 0); i++) {
    const busy = tasks.filter((t) => t.running.size > 0)
    busy[i % busy.length]!.finish()
    await tick()
    assert.ok(tasks.reduce((n, t) => n + t.running.size, 0) <= 4, 'never more than the bound')
  }
  assert.deepEqual(
    tasks.map((t) => t.started.length),
    [20, 20, 20],
    'every task got its turn'
  )
})

test('a held key-ordered task fills its gaps and starts nothing new, so a settle ends at a contiguous boundary', async () => {
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 100 })
  const task = new KeyedTask('t', 4, ['a', 'a', 'b', 'c', 'd', 'e', 'f'])
  scheduler.add(task)
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual([...task.running.keys()], ['a@0', 'b@2', 'c@3', 'd@4'])
  assert.equal(task.queue.committable('t', 0), undefined, 'nothing finished')
  const settled = scheduler.settle([task], 10_000)
  task.finish('b@2')
  task.finish('c@3')
  task.finish('d@4')
  await tick()
  assert.equal(scheduler.isBusy(task), true, 'a@0 in flight, a@1 a gap')
  task.finish('a@0')
  await tick()
  assert.deepEqual([...task.running.keys()], ['a@1'], 'the gap a@1 started while held; e@5 did not')
  task.finish('a@1')
  assert.deepEqual(await settled, [])
  assert.equal(task.queue.committable('t', 0), 5n, 'every started record finished, none past them')
  assert.deepEqual(task.started, ['a@0', 'b@2', 'c@3', 'd@4', 'a@1'])
  scheduler.release()
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual([...task.running.keys()], ['e@5', 'f@6'])
})

test('settle gives up after its timeout and reports the task still busy', async () => {
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 100 })
  const task = new KeyedTask('t', 2, ['a', 'b'])
  scheduler.add(task)
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual(await scheduler.settle([task], 5), [task])
})

test('a due wall-clock punctuator stops new records and fires once the records in flight are done', async () => {
  const now = 1_000
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 100, now: () => now })
  const task = new KeyedTask('t', 2, ['a', 'b', 'c', 'd'])
  scheduler.add(task)
  scheduler.run(now + 100)
  assert.equal(task.running.size, 2)
  task.wallClockDueAt = now
  task.finish('a@0')
  await tick()
  assert.deepEqual([...task.running.keys()], ['b@1'], 'c@2 waits for the punctuator')
  assert.equal(scheduler.punctuate(now), false, 'a task with records in flight does not punctuate')
  task.finish('b@1')
  await tick()
  assert.equal(task.punctuations, 1, 'fired at the boundary')
  assert.equal(task.punctuatedWhileRunning, 0)
  assert.deepEqual([...task.running.keys()], ['c@2', 'd@3'], 'then records go on')
})

test('a removed key-ordered task abandons all its records at once', async () => {
  const scheduler = new RecordScheduler<KeyedTask>({ maxInFlight: 3 })
  const a = new KeyedTask('a', 3, ['x', 'y', 'z'])
  const b = new KeyedTask('b', 3, ['x', 'y', 'z'])
  scheduler.add(a)
  scheduler.add(b)
  scheduler.run(Date.now() + 1_000)
  assert.equal(a.running.size, 3)
  scheduler.remove(a)
  assert.equal(scheduler.inFlight, undefined, 'the three slots are free')
  scheduler.run(Date.now() + 1_000)
  assert.equal(b.running.size, 3)
  a.finish()
  await tick()
  assert.equal(scheduler.processed, 0, 'abandoned records are not counted')
})
