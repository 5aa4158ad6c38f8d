import { StreamlaneError } from '../errors.ts'
import type { TaskId } from '../task-id.ts'
import { forEachInOrder, isPromiseLike } from './maybe-async.ts'
import type { StateStore, StoreBuilder } from './state-store.ts'
import type { ProcessorNode } from './task-nodes.ts'
import { messageOf } from './topology-errors.ts'
import type { SubtopologyPlan, TopologyPlan } from './topology-plan.ts'

/** Builds and opens this task's instance of every store its sub-topology uses. */
export function openStores(
  plan: TopologyPlan,
  subtopology: SubtopologyPlan,
  taskId: TaskId,
  createStore: (builder: StoreBuilder, taskId: TaskId) => StateStore
): Map<string, StateStore> {
  const stores = new Map<string, StateStore>()
  for (const name of subtopology.stores) {
    const store = createStore(plan.storeBuilders.get(name)!, taskId)
    const changelog = plan.changelogOf(name)
    store.init({
      applicationId: plan.applicationId,
      taskId,
      changelogTopic: changelog?.topic ?? null,
      ...(changelog?.source ? { changelogIsSourceTopic: true } : {})
    })
    stores.set(name, store)
  }
  return stores
}

/** Initialises processors in topological order; a failure names the processor and the task. */
export function initProcessors(taskId: TaskId, processors: readonly ProcessorNode[]): void {
  for (const node of processors) {
    try {
      node.processor.init?.(node.context as never)
    } catch (error) {
      throw new StreamlaneError(
        'STREAMLANE_PROCESSOR_INIT_FAILED',
        `processor ${node.name} of task ${taskId} failed to initialise: ${messageOf(error)}`,
        { cause: error }
      )
    }
  }
}

/**
 * Closes processors, then stores, every one of them even when some fail, so one bad `close()` leaks nothing; the
 * first failure is thrown at the end.
 */
export function closeTaskNodes(
  taskId: TaskId,
  processors: readonly ProcessorNode[],
  stores: Iterable<StateStore>
): void | Promise<void> {
  const errors: unknown[] = []
  const closeStores = (): void => {
    for (const store of stores) {
      try {
        store.close()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) {
      throw new StreamlaneError(
        'STREAMLANE_TASK_CLOSE_FAILED',
        `task ${taskId} did not close cleanly: ${messageOf(errors[0])}`,
        {
          cause: errors[0]
        }
      )
    }
  }
  const closing = forEachInOrder(processors, (node) => {
    try {
      const result = node.processor.close?.()
      return isPromiseLike(result) ? Promise.resolve(result).catch((error: unknown) => errors.push(error)) : undefined
    } catch (error) {
      errors.push(error)
    }
  })
  return isPromiseLike(closing) ? closing.then(closeStores) : closeStores()
}
