import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compareFinalValues, describeComparison, foldFinalValues, matched } from '../../../bench/peer/final-values.ts'

const record = (key: string | null, value: string | null) => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value)
})

test('the last value of each key wins; a tombstone removes the key; keyless records are ignored', () => {
  const values = foldFinalValues(new Map(), [
    record('a', '1'),
    record('b', '1'),
    record('a', '2'),
    record(null, 'x'),
    record('b', null),
    record('c', '\u00ff')
  ])
  assert.deepEqual(
    [...values],
    [
      ['a', '2'],
      ['c', '\u00c3\u00bf']
    ]
  )
})

test('two systems whose updates differ but whose final values agree match', () => {
  const ours = foldFinalValues(new Map(), [record('a', '1'), record('a', '3'), record('b', '2')])
  const theirs = foldFinalValues(new Map(), [record('b', '2'), record('a', '3')])
  const comparison = compareFinalValues(theirs, ours)
  assert.ok(matched(comparison))
  assert.equal(describeComparison(comparison), 'equal (2 keys)')
})

test('missing, extra and different keys are counted, with an example', () => {
  const reference = foldFinalValues(new Map(), [record('a', '1'), record('b', '2'), record('c', '3')])
  const other = foldFinalValues(new Map(), [record('b', '2'), record('c', '4'), record('d', '5')])
  const comparison = compareFinalValues(reference, other)
  assert.deepEqual(comparison, { keys: 3, missing: 1, extra: 1, different: 1, example: 'a' })
  assert.equal(matched(comparison), false)
  assert.match(describeComparison(comparison), /DIFFERENT: of 3 keys, 1 missing, 1 extra, 1 with another final value/)
})
