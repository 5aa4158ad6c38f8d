import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeSubscriptionInfo,
  encodeSubscriptionInfo,
  SUBSCRIPTION_VERSION,
  type TaskIdText,
  UserDataCorruptError,
  UserDataEncodeError,
  UserDataVersionError
} from '../../../src/assignment/index.ts'

const INT64_MAX = (1n << 63n) - 1n

test('round trip keeps every field', () => {
  const info = {
    processId: '4f1c1d0e-7a4b-4c1e-9a55-3b2f4f0e6a11',
    endpoint: 'pod-1.app:7070',
    generation: 42,
    ownedActive: ['0_1', '0_0', '2_7'] as TaskIdText[],
    ownedStandby: ['1_3'] as TaskIdText[],
    taskLags: new Map<TaskIdText, bigint>([
      ['0_0', 0n],
      ['1_3', 123_456n],
      ['2_7', INT64_MAX]
    ]),
    draining: true,
    uniqueField: 7
  }
  const decoded = decodeSubscriptionInfo(encodeSubscriptionInfo(info))
  assert.deepEqual(decoded, {
    ...info,
    version: SUBSCRIPTION_VERSION,
    ownedActive: ['0_0', '0_1', '2_7']
  })
})

test('defaults: no endpoint, not draining, unknown generation, nothing owned', () => {
  const decoded = decodeSubscriptionInfo(encodeSubscriptionInfo({ processId: 'p' }))
  assert.equal(decoded.endpoint, undefined)
  assert.equal(decoded.draining, false)
  assert.equal(decoded.generation, -1)
  assert.deepEqual(decoded.ownedActive, [])
  assert.equal(decoded.taskLags.size, 0)
})

test('is compact: 64 owned tasks with lags fit in well under 300 bytes', () => {
  const tasks = Array.from({ length: 64 }, (_, p) => `0_${p}` as TaskIdText)
  const bytes = encodeSubscriptionInfo({
    processId: '4f1c1d0e-7a4b-4c1e-9a55-3b2f4f0e6a11',
    endpoint: 'pod-1.app:7070',
    ownedActive: tasks,
    taskLags: new Map(tasks.map((t) => [t, 0n]))
  })
  assert.ok(bytes.length < 300, `${bytes.length} bytes`)
})

test('a layout a newer release marks unreadable is rejected with both versions in the message', () => {
  const bytes = encodeSubscriptionInfo({ processId: 'p' })
  bytes[1] = 3
  bytes[2] = 2
  assert.throws(
    () => decodeSubscriptionInfo(bytes),
    (error: unknown) => {
      assert.ok(error instanceof UserDataVersionError)
      assert.equal(error.code, 'STREAMLANE_USERDATA_VERSION_UNSUPPORTED')
      assert.equal(error.version, 3)
      assert.match(error.message, /subscription userData version 3 needs a reader of version >= 2/)
      assert.match(error.message, /reads up to version 1/)
      return true
    }
  )
})

test('a newer append-only version decodes: trailing fields are ignored', () => {
  const bytes = encodeSubscriptionInfo({ processId: 'p', ownedActive: ['0_1'] })
  const newer = Buffer.concat([bytes, Buffer.from([1, 2, 3])])
  newer[1] = SUBSCRIPTION_VERSION + 1
  const decoded = decodeSubscriptionInfo(newer)
  assert.equal(decoded.version, SUBSCRIPTION_VERSION + 1)
  assert.deepEqual(decoded.ownedActive, ['0_1'])
})

test('foreign, truncated or padded bytes are a corrupt-userData error', () => {
  const bytes = encodeSubscriptionInfo({ processId: 'p', ownedActive: ['0_1'], taskLags: new Map([['0_1', 5n]]) })
  const cases = [
    Buffer.alloc(0),
    Buffer.from('{"json":true}'),
    bytes.subarray(0, bytes.length - 1),
    Buffer.concat([bytes, Buffer.from([0])])
  ]
  for (const data of cases) {
    assert.throws(
      () => decodeSubscriptionInfo(data),
      (error: unknown) => error instanceof UserDataCorruptError && error.code === 'STREAMLANE_USERDATA_CORRUPT'
    )
  }
})

test('refuses to encode what it cannot represent', () => {
  assert.throws(() => encodeSubscriptionInfo({ processId: '' }), UserDataEncodeError)
  assert.throws(
    () => encodeSubscriptionInfo({ processId: 'p', taskLags: new Map([['0_0', 1n << 63n]]) }),
    /outside the int64 range/
  )
})
