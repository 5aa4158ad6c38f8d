import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseBenchArgs } from '../../../bench/lib/args.ts'

test('benchmark names, workloads (repeated or comma-separated) and the order', () => {
  assert.deepEqual(parseBenchArgs(['peer', '--workload', 'window', '--workload=count,eos', '--order', 'both']), {
    names: ['peer'],
    workloads: ['window', 'count', 'eos'],
    order: 'both',
    scenarios: [],
    modes: []
  })
  assert.deepEqual(parseBenchArgs([]), {
    names: [],
    workloads: [],
    order: 'streamlane-first',
    scenarios: [],
    modes: []
  })
  assert.deepEqual(parseBenchArgs(['handover', '--scenarios=pod-loss,scale-in', '--modes', 'ha']), {
    names: ['handover'],
    workloads: [],
    order: 'streamlane-first',
    scenarios: ['pod-loss', 'scale-in'],
    modes: ['ha']
  })
})

test('an unknown option, a missing value or an unknown order is an error naming it', () => {
  assert.throws(() => parseBenchArgs(['--fast']), /unknown option --fast/)
  assert.throws(() => parseBenchArgs(['peer', '--workload']), /--workload needs a value/)
  assert.throws(() => parseBenchArgs(['--order', 'random']), /--order must be one of/)
})
