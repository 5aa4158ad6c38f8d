import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RecordScheduler } from '../../../src/runtime/record-scheduler.ts'

/** A task whose records finish when the test says so (async) or at once (sync). */
class FakeTask {
  readonly name: string
  restoring = false
  readonly pending: (() => void)[] = []
  readonly failWith: Error | undefined
  buffered: number
  started = 0
  done = 0
  active = 0
  maxActive = 0
  readonly sync: boolean

  constructor(name: string, buffered: number, options: { sync?: boolean; failWith?: Error } = {}) {
    this.name = name
    this.buffered = buffered
    this.sync = options.sync ?? false
    this.failWith = options.failWith
  }

  readonly graph = {
    readyToProcess: () => this.buffered > 0,
    punctuateWallClock: () => false as boolean | Promise<boolean>,
    processNext: (): boolean | Promise<boolean> => {
      if (this.buffered === 0) return false
      this.buffered--
      this.started++
      if (this.sync) {
        this.done++
        return true
      }
      this.active++
      this.maxActive = Math.max(this.maxActive, this.active)
      return new Promise<boolean>((resolve, reject) => {
        this.pending.push(() => {
          this.active--
          this.done++
          if (this.failWith) reject(this.failWith)
          else resolve(true)
        })
      })
    }
  }

  /** Finishes the oldest record in flight. */
  finish(): void {
    this.pending.shift()?.()
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))
const inFlightCount = (tasks: FakeTask[]) => tasks.reduce((n, t) => n + t.active, 0)

test('asynchronous records of different tasks are in flight together, one per task', async () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 100 })
  const tasks = Array.from({ length: 12 }, (_, i) => new FakeTask(`t${i}`, 5))
  for (const t of tasks) scheduler.add(t)
  assert.equal(scheduler.run(Date.now() + 1_000), 0)
  assert.equal(inFlightCount(tasks), 12)
  assert.equal(scheduler.inFlight?.records, 12)
  // Each finished record starts its task's next one at once, without another run().
  for (let round = 0; round < 5; round++) {
    for (const t of tasks) t.finish()
    await tick()
  }
  for (const t of tasks) {
    assert.equal(t.done, 5)
    assert.equal(t.maxActive, 1, `${t.name} never ran two records at once`)
  }
  assert.equal(scheduler.processed, 60)
  assert.equal(scheduler.inFlight, undefined)
})

test('the in-flight bound holds and freed slots go to waiting tasks first', async () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 3 })
  const tasks = Array.from({ length: 6 }, (_, i) => new FakeTask(`t${i}`, 10))
  for (const t of tasks) scheduler.add(t)
  scheduler.run(Date.now() + 1_000)
  assert.deepEqual(
    tasks.map((t) => t.active),
    [1, 1, 1, 0, 0, 0]
  )
  // t0 finishes: its slot goes to t3 (waiting longest), not back to t0.
  tasks[0]!.finish()
  await tick()
  assert.deepEqual(
    tasks.map((t) => t.active),
    [0, 1, 1, 1, 0, 0]
  )
  let maxSeen = 0
  for (let i = 0; i < 200; i++) {
    const busy = tasks.filter((t) => t.active > 0)
    if (busy.length === 0) break
    busy[i % busy.length]!.finish()
    await tick()
    maxSeen = Math.max(maxSeen, inFlightCount(tasks))
  }
  assert.ok(maxSeen <= 3)
  assert.deepEqual(
    tasks.map((t) => t.done),
    [10, 10, 10, 10, 10, 10],
    'every task got its turn'
  )
})

test('synchronous records take no slot and stay on the fast path', () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 1 })
  const tasks = [new FakeTask('a', 1_000, { sync: true }), new FakeTask('b', 1_000, { sync: true })]
  for (const t of tasks) scheduler.add(t)
  assert.equal(scheduler.run(Date.now() + 10_000), 2_000)
  assert.equal(scheduler.processed, 2_000)
})

test('hold stops new records, settle waits for those in flight, release lets them go on', async () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 10 })
  const a = new FakeTask('a', 3)
  const b = new FakeTask('b', 3)
  scheduler.add(a)
  scheduler.add(b)
  scheduler.run(Date.now() + 1_000)
  const settled = scheduler.settle([a], 10_000)
  a.finish()
  assert.deepEqual(await settled, [])
  assert.equal(a.active, 0, 'a held: its next record did not start')
  b.finish()
  await tick()
  assert.equal(b.active, 1, 'b was not held')
  assert.deepEqual(await scheduler.settle([b], 1), [b], 'b still busy when the wait ends')
  scheduler.release()
  scheduler.run(Date.now() + 1_000)
  assert.equal(a.active, 1)
})

test('nothing starts while mayStart says no', () => {
  let allowed = false
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 10, mayStart: () => allowed })
  const a = new FakeTask('a', 3)
  scheduler.add(a)
  scheduler.run(Date.now() + 1_000)
  assert.equal(a.started, 0)
  allowed = true
  scheduler.run(Date.now() + 1_000)
  assert.equal(a.started, 1)
})

test('a removed task abandons its record: its completion is not counted and frees nothing twice', async () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 1 })
  const a = new FakeTask('a', 3)
  const b = new FakeTask('b', 3)
  scheduler.add(a)
  scheduler.add(b)
  scheduler.run(Date.now() + 1_000)
  assert.equal(a.active + b.active, 1)
  scheduler.remove(a)
  assert.equal(scheduler.inFlight, undefined)
  scheduler.run(Date.now() + 1_000)
  assert.equal(b.active, 1, 'the slot is free for b')
  a.finish()
  await tick()
  assert.equal(a.started, 1, 'a started nothing more')
  assert.equal(scheduler.processed, 0)
})

test('a record that fails outside run() is thrown by the next run()', async () => {
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 10 })
  const a = new FakeTask('a', 3, { failWith: new Error('boom') })
  scheduler.add(a)
  scheduler.run(Date.now() + 1_000)
  a.finish()
  await tick()
  assert.throws(() => scheduler.run(Date.now() + 1_000), /boom/)
  assert.equal(a.started, 1)
})

test('busy time counts the time with records in flight once, however many', async () => {
  let now = 1_000
  const scheduler = new RecordScheduler<FakeTask>({ maxInFlight: 10, now: () => now })
  const tasks = [new FakeTask('a', 1), new FakeTask('b', 1)]
  for (const t of tasks) scheduler.add(t)
  scheduler.run(now + 100)
  now += 200
  for (const t of tasks) t.finish()
  await tick()
  now += 500
  assert.equal(scheduler.busyMs, 200)
  assert.equal(scheduler.processed, 2)
})
