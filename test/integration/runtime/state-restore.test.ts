/**
 * Stores are a cache of their changelog: a restart with the same state directory restores only what the checkpoint
 * does not cover, a restart with an empty one rebuilds the stores from the changelog, and counts carry on exactly.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  COUNT_KEYS as KEYS,
  COUNT_PARTITIONS as PARTITIONS,
  produceRound,
  runUntilCounts,
  setUpCountApp
} from './count-app.ts'
import { topicEnd } from './support.ts'

test('a restart restores only the delta with its state dir and everything without it; counts stay exact', async () => {
  const { admin, changelog, input, output, stateDir, emptyStateDir, app, close } = await setUpCountApp('count')
  try {
    await produceRound(input, 50)
    const first = app(stateDir)
    await runUntilCounts(first, output, 50)
    await first.close()
    assert.equal(await topicEnd(admin, changelog), KEYS * 50, 'every count update is in the changelog (no cache)')
    const [description] = await admin.describeTopics([changelog])
    assert.equal(description!.partitions.length, PARTITIONS)
    assert.equal((await admin.describeTopicConfigs(changelog))['cleanup.policy'], 'compact')

    // Same state dir: the checkpoint covers the whole changelog, nothing to restore.
    await produceRound(input, 5)
    const withState = app(stateDir)
    await runUntilCounts(withState, output, 55)
    await withState.close()
    assert.equal(withState.progress().restored, 0, 'a clean restart with its state dir restores nothing')

    // Empty state dir: the stores are rebuilt from the changelog, and the counts go on from there.
    await produceRound(input, 5)
    const fresh = app(emptyStateDir)
    await runUntilCounts(fresh, output, 60)
    await fresh.close()
    const restored = fresh.progress().restored
    assert.ok(restored >= KEYS && restored <= KEYS * 55, `restored ${restored} changelog records`)
  } finally {
    await close()
  }
})
