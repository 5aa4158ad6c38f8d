import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProduceBatcher } from '../../../src/kafka/produce-batcher.ts'

/** A dispatch that records each request and answers when told, so tests control the "network". */
function fakeNetwork() {
  const requests: { items: number[]; answer: (error?: Error) => void }[] = []
  const dispatch = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      requests.push({ items, answer: (error) => (error ? reject(error) : resolve(items.map((i) => `ack-${i}`))) })
    })
  return { requests, dispatch }
}

async function ticks(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

test('calls of one tick share a request; each caller gets its own results in order', async () => {
  const net = fakeNetwork()
  const batcher = new ProduceBatcher({ lingerMs: 0, batchBytes: 1_000, dispatch: net.dispatch })
  const a = batcher.add([1, 2], 10)
  const b = batcher.add([3], 5)
  await new Promise((r) => setTimeout(r, 5))
  assert.deepEqual(
    net.requests.map((r) => r.items),
    [[1, 2, 3]]
  )
  net.requests[0]?.answer()
  assert.deepEqual(await a, ['ack-1', 'ack-2'])
  assert.deepEqual(await b, ['ack-3'])
})

test('one request in flight; what queues meanwhile goes out together right after', async () => {
  const net = fakeNetwork()
  const batcher = new ProduceBatcher({ lingerMs: 10_000, batchBytes: 10, dispatch: net.dispatch })
  const first = batcher.add([1], 10) // full: sent at once despite the long linger
  await ticks()
  const later = [batcher.add([2], 3), batcher.add([3], 3)]
  await ticks()
  assert.equal(net.requests.length, 1, 'the second request waits for the first')
  net.requests[0]?.answer()
  await first
  await ticks()
  assert.deepEqual(net.requests[1]?.items, [2, 3], 'no lingering after a round trip')
  net.requests[1]?.answer()
  assert.deepEqual(await Promise.all(later), [['ack-2'], ['ack-3']])
})

test('flush sends without lingering and reports the first failure once', async () => {
  const net = fakeNetwork()
  const batcher = new ProduceBatcher({ lingerMs: 60_000, batchBytes: 1_000, dispatch: net.dispatch })
  const unawaited = batcher.add([1], 1)
  const flushed = batcher.flush()
  await ticks()
  assert.equal(net.requests.length, 1)
  net.requests[0]?.answer(new Error('broker said no'))
  await assert.rejects(flushed, /broker said no/)
  await assert.rejects(unawaited, /broker said no/)
  await batcher.flush()
})

test('discardQueued rejects what was not sent; in-flight work completes', async () => {
  const net = fakeNetwork()
  const batcher = new ProduceBatcher({ lingerMs: 0, batchBytes: 1, dispatch: net.dispatch })
  const inflight = batcher.add([1], 1)
  await ticks()
  const queued = batcher.add([2], 1)
  batcher.discardQueued(new Error('aborted'))
  await assert.rejects(queued, /aborted/)
  net.requests[0]?.answer()
  assert.deepEqual(await inflight, ['ack-1'])
  await batcher.idle()
  assert.equal(net.requests.length, 1)
})

test('while held, nothing new goes on the wire, even when flushed; released, it goes out; discarded, never', async () => {
  const net = fakeNetwork()
  let held = true
  const batcher = new ProduceBatcher({ lingerMs: 0, batchBytes: 1_000, dispatch: net.dispatch, hold: () => held })
  const first = batcher.add([1], 1)
  void batcher.flush().catch(() => {})
  await new Promise((r) => setTimeout(r, 60))
  assert.equal(net.requests.length, 0, 'held through the linger and a flush')
  held = false
  await new Promise((r) => setTimeout(r, 60))
  assert.deepEqual(net.requests[0]?.items, [1], 'sent once released')
  net.requests[0]?.answer()
  assert.deepEqual(await first, ['ack-1'])
  held = true
  const dropped = batcher.add([2], 1)
  await new Promise((r) => setTimeout(r, 30))
  batcher.discardQueued(new Error('tasks lost'))
  await assert.rejects(dropped, /tasks lost/)
  held = false
  await new Promise((r) => setTimeout(r, 60))
  assert.equal(net.requests.length, 1, 'a discarded record is never sent')
})
