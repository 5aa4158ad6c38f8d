/**
 * Helpers for code paths that are synchronous unless a user function returns a promise. Processing stays on the
 * synchronous fast path (no microtask per record) for synchronous processors, and still waits correctly for
 * asynchronous ones.
 */
export type MaybePromise<T> = T | Promise<T>

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/** Runs `fn` on each item in order, waiting for each returned promise before the next item. */
export function forEachInOrder<T>(items: readonly T[], fn: (item: T) => unknown, start = 0): void | Promise<void> {
  for (let i = start; i < items.length; i++) {
    const result = fn(items[i]!)
    if (isPromiseLike(result)) return Promise.resolve(result).then(() => forEachInOrder(items, fn, i + 1))
  }
}

/** Like `forEachInOrder`, over an iterable consumed lazily. */
export function forEachOfIterable<T>(iterator: Iterator<T>, fn: (item: T) => unknown): void | Promise<void> {
  for (let next = iterator.next(); !next.done; next = iterator.next()) {
    const result = fn(next.value)
    if (isPromiseLike(result)) return Promise.resolve(result).then(() => forEachOfIterable(iterator, fn))
  }
}

/**
 * `fn()` then `after(result)`, on the synchronous path when `fn` is synchronous. `onError` sees synchronous throws and
 * rejections alike.
 */
export function andThen<T, R>(
  fn: () => MaybePromise<T>,
  after: (value: T) => MaybePromise<R>,
  onError?: (error: unknown) => MaybePromise<R>
): MaybePromise<R> {
  let value: MaybePromise<T>
  try {
    value = fn()
  } catch (error) {
    if (onError) return onError(error)
    throw error
  }
  if (isPromiseLike(value)) {
    const chained = Promise.resolve(value).then(after)
    return onError ? chained.catch(onError) : chained
  }
  if (!onError) return after(value)
  try {
    const result = after(value)
    return isPromiseLike(result) ? Promise.resolve(result).catch(onError) : result
  } catch (error) {
    return onError(error)
  }
}
