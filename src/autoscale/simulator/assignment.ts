/**
 * Balanced, sticky partition assignment: every member gets floor(P/n) or ceil(P/n) partitions, and keeps as many of
 * the ones it already owns as that allows. Both simulated apps use it, which flatters the eager (KEDA) side: Kafka's
 * default range assignor is not sticky and moves more partitions on every rebalance.
 *
 * `owners[p]` is the member owning partition p (or null); `preferred(p)` lists members that should take p if it
 * must move (those holding a caught-up standby copy). Returns the new owners.
 */
export function assignSticky(
  owners: readonly (number | null)[],
  members: readonly number[],
  preferred: (partition: number) => readonly number[] = () => []
): (number | null)[] {
  const partitions = owners.length
  if (members.length === 0) return owners.map(() => null)
  const memberSet = new Set(members)
  const owned = new Map<number, number[]>(members.map((m) => [m, []]))
  owners.forEach((owner, p) => {
    if (owner !== null && memberSet.has(owner)) owned.get(owner)!.push(p)
  })
  // Members that already own more get the larger quotas, so fewer partitions move; among equals, members that hold
  // caught-up copies of orphaned partitions, so those move without restoring.
  const wanted = new Map<number, number>(members.map((m) => [m, 0]))
  owners.forEach((owner, p) => {
    if (owner !== null && memberSet.has(owner)) return
    for (const m of preferred(p)) if (wanted.has(m)) wanted.set(m, wanted.get(m)! + 1)
  })
  const order = [...members].sort(
    (a, b) => owned.get(b)!.length - owned.get(a)!.length || wanted.get(b)! - wanted.get(a)! || a - b
  )
  const base = Math.floor(partitions / members.length)
  const extra = partitions % members.length
  const quota = new Map(order.map((m, i) => [m, base + (i < extra ? 1 : 0)]))

  const result: (number | null)[] = owners.map(() => null)
  const load = new Map<number, number>(members.map((m) => [m, 0]))
  for (const m of order) {
    for (const p of owned.get(m)!.slice(0, quota.get(m)!)) {
      result[p] = m
      load.set(m, load.get(m)! + 1)
    }
  }
  const hasRoom = (m: number) => memberSet.has(m) && load.get(m)! < quota.get(m)!
  const take = (p: number, m: number) => {
    result[p] = m
    load.set(m, load.get(m)! + 1)
  }
  // Partitions with a preferred taker first, so a caught-up copy is not crowded out by a partition that has none.
  const open = result.flatMap((owner, p) => (owner === null ? [p] : []))
  for (const p of open) {
    const taker = preferred(p).find(hasRoom)
    if (taker !== undefined) take(p, taker)
  }
  for (const p of open) if (result[p] === null) take(p, order.find(hasRoom)!)
  return result
}
