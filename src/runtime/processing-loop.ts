/**
 * The app's one loop: fetch, restore a step, process in timestamp order per task, punctuate, step the standbys and
 * commit when due. Each iteration runs under the lock that rebalance callbacks and close take too, so a task is never
 * given away halfway through a batch.
 */
import type { AppMetrics } from '../observe/index.ts'
import type { RunningApp } from './running-app.ts'

/** How long one loop iteration may process before it checks commits and lets rebalance callbacks in. */
const PROCESS_BUDGET_MS = 100
const POLL_WAIT_MS = 100

export interface ProcessingLoopOptions {
  /** What the loop times as it runs. */
  metrics: AppMetrics['loop']
  /** Whether the app is stopping: the loop ends after the current iteration. */
  stopping(): boolean
  /** Runs one iteration under the app's lock. */
  locked(work: () => Promise<void>): Promise<void>
  /** Whether this member may have lost its tasks: nothing is processed, punctuated or committed then. */
  ownershipInDoubt(): boolean
  /** Called after each restore step (the app turns RUNNING once nothing restores). */
  onRestoreStep(): void
  commit(): Promise<void>
  /** Stops the app on an error; the loop ends. */
  fail(error: unknown): Promise<void>
}

export async function runProcessingLoop(running: RunningApp, options: ProcessingLoopOptions): Promise<void> {
  const { reader, tasks, taskLifecycle, committer, collector } = running
  const { metrics: loop } = options
  while (!options.stopping()) {
    try {
      // The poll is inside the lock, as Kafka's consumer runs rebalance callbacks inside poll(): records fetched
      // before a callback closed or rewound a task would otherwise reach the task that replaced it, out of order.
      await options.locked(async () => {
        const restoring = (running.restorer?.restoringTasks ?? 0) > 0
        const pollStart = performance.now()
        const records = await reader.poll(restoring ? 0 : POLL_WAIT_MS)
        loop.poll.observe((performance.now() - pollStart) / 1000)
        loop.polledRecords += records.length
        loop.wallClockMs = Date.now()
        if (options.stopping() && records.length === 0) return
        if (restoring) {
          await taskLifecycle.restoreStep()
          options.onRestoreStep()
        }
        tasks.addRecords(records)
        const { pause, resume } = tasks.backPressure()
        if (pause.length > 0) reader.pause(pause)
        if (resume.length > 0) reader.resume(resume)
        // Processing, punctuators (suppression emits included) and commits all write for the tasks: none of them
        // runs while this member may have lost its tasks. Checked again after processing, which a pause may split.
        if (options.ownershipInDoubt()) return
        await committer.ensureTransaction()
        // Asynchronous records stay in flight past this call, one per task (see RecordScheduler); a commit waits
        // for the tasks it needs idle without holding this lock, so rebalance callbacks are never stuck behind one.
        const processStart = performance.now()
        if (tasks.process(PROCESS_BUDGET_MS) > 0) loop.process.observe((performance.now() - processStart) / 1000)
        if (options.ownershipInDoubt()) return
        const punctuateStart = performance.now()
        if (tasks.punctuate(Date.now())) loop.punctuate.observe((performance.now() - punctuateStart) / 1000)
        collector.dispatch()
        // Standbys after active work: they never delay it by more than one batch.
        await running.replicas?.step()
        if ((committer.commitDue || tasks.commitRequested() || tasks.commitWaiting) && tasks.holdForCommit())
          await options.commit()
      })
    } catch (error) {
      await options.fail(error)
      return
    }
  }
  // What was processed is committed once, by the revocation at close (member.close, onRevoke 'close'), which waits
  // for records in flight. Not here too: a commit refused here, while the member's join round is in flight, would
  // mark the tasks as lost and withhold that last commit (every record since the previous one processed again).
}
