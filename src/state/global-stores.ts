import type { StateStore, StoreBuilder } from '../topology/index.ts'
import { TaskId } from '../topology/index.ts'
import { StateLifecycleError } from './errors.ts'
import { isManagedStateStore, type RestoreRecord } from './managed-store.ts'
import type { StateLogger } from './state-logger.ts'
import { TaskStateManager } from './task-state-manager.ts'

/**
 * The global stores of a process (`GlobalKTable`s): one instance each, shared by every task, filled from every
 * partition of its topic. They are kept on the heap and filled from the beginning of their topics at each start (the
 * topic is their changelog: no changelog of their own, nothing to checkpoint).
 */
export class GlobalStores {
  readonly stores: ReadonlyMap<string, StateStore>
  readonly #manager: TaskStateManager

  constructor(applicationId: string, builders: Iterable<StoreBuilder>, logger?: StateLogger) {
    // The stores' owner in log lines and errors; global stores belong to no task.
    this.#manager = new TaskStateManager({
      applicationId,
      taskId: new TaskId(0, 0),
      ...(logger === undefined ? {} : { logger })
    })
    const stores = new Map<string, StateStore>()
    for (const builder of builders) stores.set(builder.name, this.#manager.openStore(builder, null))
    this.stores = stores
  }

  /**
   * Puts records of a global store's topic into it as they are (key and value bytes, timestamp), as a restore does:
   * a null value deletes the key, records without a key are skipped.
   */
  apply(
    storeName: string,
    records: readonly { key: Buffer | null; value: Buffer | null; timestamp: number; offset: bigint }[]
  ): void {
    const store = this.stores.get(storeName)
    if (store === undefined || !isManagedStateStore(store)) {
      throw new StateLifecycleError(`global store ${storeName} is not open, or not one of Streamlane's stores`)
    }
    const keyed = records.filter((r): r is RestoreRecord => r.key !== null)
    store.restoreBatch(keyed)
  }

  /** Makes the writes of update processors (`addGlobalStore` with a processor) part of the stores' committed data. */
  commit(): void {
    this.#manager.commit(new Map())
  }

  async close(): Promise<void> {
    await this.#manager.close()
  }
}
