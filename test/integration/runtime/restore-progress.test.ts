/**
 * Restoration is observable: an instance that rebuilds its stores from the changelog reports each task's progress
 * through onRestoreProgress, ending at done == total, and its metrics count the records restored.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { TaskRestoreProgress } from '../../../src/runtime/state-restorer.ts'
import { COUNT_PARTITIONS as PARTITIONS, produceRound, runUntilCounts, setUpCountApp } from './count-app.ts'

function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

test('a restored task reports its progress up to done == total, and the metrics count what was restored', async () => {
  const { admin, changelog, input, output, stateDir, emptyStateDir, app, close } = await setUpCountApp('progress')
  try {
    await produceRound(input, 30)
    const first = app(stateDir)
    await runUntilCounts(first, output, 30)
    await first.close()

    // What a restore from scratch has to read: every changelog partition from its log start to its end.
    const [starts, ends] = await Promise.all([
      admin.listOffsets([{ topic: changelog }], 'earliest'),
      admin.listOffsets([{ topic: changelog }], 'latest')
    ])
    const toRestore = new Map<number, number>()
    for (const [partition, end] of ends.get(changelog)!) {
      toRestore.set(partition, Number(end - (starts.get(changelog)!.get(partition) ?? 0n)))
    }

    await produceRound(input, 5)
    const fresh = app(emptyStateDir)
    const events: TaskRestoreProgress[] = []
    fresh.onRestoreProgress((progress) => events.push(progress))
    try {
      await runUntilCounts(fresh, output, 35)
      const finished = events.filter((e) => e.finished)
      assert.equal(finished.length, PARTITIONS, 'every task restored once')
      for (const done of finished) {
        const partition = Number(done.taskId.split('_')[1])
        assert.equal(done.recordsTotal, toRestore.get(partition), `task ${done.taskId}: total is end - start`)
        assert.equal(done.recordsDone, done.recordsTotal, `task ${done.taskId}: done == total`)
        assert.ok(done.recordsRestored > 0 && done.recordsRestored <= done.recordsTotal)
        assert.ok(done.recordsPerSecond > 0)
        const ofTask = events.filter((e) => e.taskId === done.taskId)
        assert.equal(ofTask[0]!.recordsDone, 0, 'the first report is the start')
        assert.equal(ofTask.at(-1), done, 'nothing after the end')
        for (let i = 1; i < ofTask.length; i++) assert.ok(ofTask[i]!.recordsDone >= ofTask[i - 1]!.recordsDone)
      }
      const text = await fresh.metrics().metrics()
      assert.equal(series(text, 'streamlane_state_restore_records_total'), fresh.progress().restored)
      assert.equal(
        fresh.progress().restored,
        finished.reduce((sum, e) => sum + e.recordsRestored, 0)
      )
      assert.equal(series(text, 'streamlane_state_restore_remaining_records'), 0)
    } finally {
      await fresh.close()
    }
  } finally {
    await close()
  }
})
