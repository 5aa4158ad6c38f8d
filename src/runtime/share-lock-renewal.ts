/**
 * When to renew the acquisition locks of a share-group app's records in flight (KIP-1222). Pure: the app calls it on
 * a timer and sends the renewals. A record is renewed once a third of its lock has run since it was acquired or last
 * renewed, checked every sixth: a renewal may also wait for a ShareFetch in flight on the same share session (up to
 * its max wait, 500 ms), and half a lock is still left when it goes out.
 */

export interface HeldRecord {
  /** When the lock last started: the poll that returned the record, or the last renewal (epoch ms). */
  lockedAt: number
}

/** The records whose locks are due for renewal at `now`, for a lock of `lockMs`. */
export function locksDue<T extends HeldRecord>(held: Iterable<T>, lockMs: number, now: number): T[] {
  if (lockMs <= 0) return []
  const due: T[] = []
  for (const record of held) if (now - record.lockedAt >= lockMs / 3) due.push(record)
  return due
}

/** How often to look for due locks: a sixth of the lock, between 100 ms and 5 s (100 ms while it is not known, 0). */
export function renewalIntervalMs(lockMs: number): number {
  return Math.min(5_000, Math.max(100, Math.floor(lockMs / 6)))
}
