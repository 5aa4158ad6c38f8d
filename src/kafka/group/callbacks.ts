import { withDeadline } from '../deadline.ts'
import { GroupCallbackError, GroupTimeoutError } from './errors.ts'

/**
 * Runs one of the caller's rebalance callbacks with a deadline. A callback that throws or hangs leaves the member
 * not knowing which partitions the caller still processes, so both are errors the member stops on.
 */
export async function runCallback(
  groupId: string,
  name: string,
  timeoutMs: number,
  run: () => void | Promise<void>
): Promise<void> {
  try {
    await withDeadline(
      Promise.resolve().then(run),
      timeoutMs,
      () => new GroupTimeoutError(groupId, `${name} did not finish within ${timeoutMs} ms (callbackTimeoutMs)`)
    )
  } catch (error) {
    if (error instanceof GroupTimeoutError) throw error
    throw new GroupCallbackError(groupId, name, { cause: error })
  }
}
