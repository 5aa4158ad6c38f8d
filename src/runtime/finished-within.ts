/**
 * Waits for `work`, at most `ms`: true once it finished, false when the time ran out first (the work goes on, and a
 * later rejection of it is ignored). A rejection before the time is up is thrown.
 */
export async function finishedWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work.then(() => true), timedOut])
  } finally {
    clearTimeout(timer)
  }
}
