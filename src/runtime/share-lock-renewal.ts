/**
 * When to renew the acquisition locks of a share-group app's records in flight (KIP-1222). Pure: the app calls it on
 * a timer and sends the renewals. A record is renewed once half its lock has run since it was acquired or last
 * renewed, so one lost or slow renewal still leaves half a lock to retry in before the broker hands it out again.
 */

export interface HeldRecord {
  /** When the lock last started: the poll that returned the record, or the last renewal (epoch ms). */
  lockedAt: number
}

/** The records whose locks are due for renewal at `now`, for a lock of `lockMs`. */
export function locksDue<T extends HeldRecord>(held: Iterable<T>, lockMs: number, now: number): T[] {
  if (lockMs <= 0) return []
  const due: T[] = []
  for (const record of held) if (now - record.lockedAt >= lockMs / 2) due.push(record)
  return due
}

/** How often to look for due locks: a quarter of the lock, between 100 ms and 5 s (100 ms while it is not known, 0). */
export function renewalIntervalMs(lockMs: number): number {
  return Math.min(5_000, Math.max(100, Math.floor(lockMs / 4)))
}
