import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Listeners } from '../../../src/runtime/listeners.ts'

test('listeners are called in the order added, until removed', () => {
  const listeners = new Listeners<[number]>()
  const calls: string[] = []
  listeners.add((n) => calls.push(`a${n}`))
  const removeB = listeners.add((n) => calls.push(`b${n}`))
  listeners.emit([1])
  removeB()
  listeners.emit([2])
  assert.deepEqual(calls, ['a1', 'b1', 'a2'])
})

test('with onThrow, a listener that throws does not keep the others from being called', () => {
  const listeners = new Listeners<[string]>()
  const calls: string[] = []
  const thrown: unknown[] = []
  listeners.add(() => {
    throw new Error('first')
  })
  listeners.add((value) => calls.push(value))
  listeners.emit(['x'], (error) => thrown.push(error))
  assert.deepEqual(calls, ['x'])
  assert.deepEqual(
    thrown.map((e) => (e as Error).message),
    ['first']
  )
  assert.throws(() => listeners.emit(['y']), /first/)
})
