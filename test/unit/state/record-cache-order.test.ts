import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
// Seeded (mulberry32), so a failing sequence can be replayed from its seed.
import { seededRandom as random } from '../../../src/autoscale/simulator/random.ts'
import { keyString } from '../../../src/state/bytes.ts'
import { CachingLayer } from '../../../src/state/caching-layer.ts'
import { MemoryBackend } from '../../../src/state/memory-backend.ts'
import { PendingWrites } from '../../../src/state/pending-writes.ts'
import { type CacheEntry, ENTRY_OVERHEAD_BYTES, RecordCache } from '../../../src/state/record-cache.ts'

type Flushed = [key: string, value: string | null, timestamp: number]

/**
 * The record cache's semantics written the slow, obvious way: arrays in LRU order and in order of last update. The
 * real cache must hand out exactly the same batches in the same order, whatever the sequence of operations.
 */
class ModelCache {
  lru: { key: string; value: string | null; timestamp: number; dirty: boolean }[] = []
  dirty: string[] = []
  bytes = 0
  readonly batches: Flushed[][] = []
  readonly maxBytes: number

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  #size(e: { key: string; value: string | null }): number {
    return e.key.length + (e.value?.length ?? 0) + ENTRY_OVERHEAD_BYTES
  }

  #remove(key: string) {
    const i = this.lru.findIndex((e) => e.key === key)
    if (i < 0) return undefined
    const [e] = this.lru.splice(i, 1)
    this.dirty = this.dirty.filter((k) => k !== key)
    this.bytes -= this.#size(e!)
    return e!
  }

  get(key: string): string | null | undefined {
    const i = this.lru.findIndex((e) => e.key === key)
    if (i < 0) return undefined
    const [e] = this.lru.splice(i, 1)
    this.lru.push(e!)
    return e!.value
  }

  put(key: string, value: string | null, timestamp: number) {
    this.#remove(key)
    const e = { key, value, timestamp, dirty: true }
    this.lru.push(e)
    this.dirty.push(key)
    this.bytes += this.#size(e)
    while (this.bytes > this.maxBytes && this.lru.length > 0) {
      const eldest = this.#remove(this.lru[0]!.key)!
      if (eldest.dirty) this.flush(eldest)
    }
  }

  flush(evicted?: { key: string; value: string | null; timestamp: number }) {
    if (evicted === undefined && this.dirty.length === 0) return
    const batch = evicted ? [evicted] : []
    for (const key of this.dirty) {
      const e = this.lru.find((x) => x.key === key)!
      e.dirty = false
      batch.push(e)
    }
    const deletes = this.dirty.filter((key) => this.lru.find((x) => x.key === key)!.value === null)
    this.dirty = []
    this.batches.push(batch.map((e) => [e.key, e.value, e.timestamp]))
    for (const key of deletes) {
      const e = this.lru.find((x) => x.key === key)
      if (e && !e.dirty && e.value === null) this.#remove(key)
    }
  }
}

const text = (b: Buffer | null) => (b === null ? null : b.toString('latin1'))

describe('record cache order (intrusive LRU and dirty lists)', () => {
  test('eviction and flush order match the reference model over random operations', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = random(seed)
      const keys = 2 + Math.floor(rnd() * 30)
      // Room for a few to a few dozen entries, so evictions happen often (and sometimes empty the cache).
      const maxBytes = Math.floor((1 + rnd() * 20) * (ENTRY_OVERHEAD_BYTES + 4))
      const model = new ModelCache(maxBytes)
      const cache = new RecordCache(maxBytes)
      const batches: Flushed[][] = []
      const named = cache.createNamedCache('s', (entries) =>
        batches.push(entries.map((e) => [keyString(e.key), text(e.value), e.timestamp]))
      )
      for (let op = 0; op < 2_000; op++) {
        const r = rnd()
        const key = `k${Math.floor(rnd() * keys)}`
        if (r < 0.55) {
          const value = rnd() < 0.15 ? null : String(Math.floor(rnd() * 100))
          model.put(key, value, op)
          named.put(Buffer.from(key, 'latin1'), value === null ? null : Buffer.from(value, 'latin1'), op)
        } else if (r < 0.85) {
          const entry = named.get(Buffer.from(key, 'latin1'))
          assert.equal(entry === undefined ? undefined : text(entry.value), model.get(key), `seed ${seed} op ${op}`)
        } else if (r < 0.9) {
          // Ranges (the sorted index is built on the first one, then kept up to date) touch no LRU position.
          const to = rnd() < 0.5 ? undefined : key
          const reverse = rnd() < 0.5
          const expected = model.lru
            .map((e) => e.key)
            .filter((k) => to === undefined || k <= to)
            .sort()
          if (reverse) expected.reverse()
          const range = named.range(undefined, to === undefined ? undefined : Buffer.from(to, 'latin1'), reverse)
          assert.deepEqual(
            [...range].map((e) => keyString(e.key)),
            expected,
            `seed ${seed} op ${op}: range`
          )
        } else {
          model.flush()
          named.flush()
        }
        assert.equal(named.size, model.lru.length, `seed ${seed} op ${op}: size`)
        assert.equal(named.dirtyCount, model.dirty.length, `seed ${seed} op ${op}: dirty count`)
        assert.equal(cache.sizeBytes, model.bytes, `seed ${seed} op ${op}: bytes`)
      }
      assert.deepEqual(batches, model.batches, `seed ${seed}: batches`)
    }
  })

  test('distinct keys through a small cache evict in insertion order', () => {
    const cache = new RecordCache(1_000 * (ENTRY_OVERHEAD_BYTES + 14))
    let evicted = 0
    let expected = 0
    const named = cache.createNamedCache('s', (entries) => {
      // Every put evicts the eldest entry, which is the only dirty one left after the first eviction flushed all.
      for (const e of entries) {
        const k = Number(keyString(e.key).slice(1))
        if (k === expected) expected++
        evicted++
      }
    })
    for (let i = 0; i < 200_000; i++) named.put(Buffer.from(`k${String(i).padStart(12, '0')}`), Buffer.alloc(0), i)
    named.flush()
    assert.equal(evicted, 200_000)
    assert.equal(expected, 200_000, 'entries left the cache in the order they were put')
  })

  test('a flushed entry vouches for the value below; re-entrant and failed flushes do not', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = random(seed * 7919)
      const below = new Map<string, Buffer>()
      const cache = new RecordCache(Math.floor((2 + rnd() * 12) * (ENTRY_OVERHEAD_BYTES + 4)))
      let vouched = 0
      let reentrant = 0
      const put = (key: string, ts: number) => {
        const value = rnd() < 0.2 ? null : Buffer.from(String(Math.floor(rnd() * 100)))
        named.put(Buffer.from(key), value, ts)
      }
      const named = cache.createNamedCache('s', (entries: readonly CacheEntry[]) => {
        for (const e of entries) {
          const k = keyString(e.key)
          if (e.below !== undefined) {
            vouched++
            assert.deepEqual(e.below, below.get(k) ?? null, `seed ${seed}: below of ${k}`)
          }
          if (e.value === null) below.delete(k)
          else below.set(k, e.value)
          // Downstream writing to the store it is flushed from, before later entries of the batch are written.
          if (rnd() < 0.1) {
            reentrant++
            put(`k${Math.floor(rnd() * 8)}`, -1)
          }
        }
      })
      for (let op = 0; op < 3_000; op++) {
        if (rnd() < 0.85) put(`k${Math.floor(rnd() * 8)}`, op)
        else named.flush()
      }
      assert.ok(vouched > 100 && reentrant > 10, `seed ${seed}: the test exercised both paths`)
    }

    // A handler that throws leaves clean entries it never wrote below: they must not vouch for anything after.
    const cache = new RecordCache(1 << 20)
    const seen: (Buffer | null | undefined)[] = []
    let fail = false
    const named = cache.createNamedCache('s', (entries) => {
      for (const e of entries) seen.push(e.below)
      if (fail) throw new Error('downstream failed')
    })
    named.put(Buffer.from('a'), Buffer.from('1'), 1)
    named.flush()
    named.put(Buffer.from('a'), Buffer.from('2'), 2)
    fail = true
    assert.throws(() => named.flush(), /downstream failed/)
    fail = false
    named.put(Buffer.from('a'), Buffer.from('3'), 3)
    named.flush()
    assert.deepEqual(seen, [undefined, Buffer.from('1'), undefined])
    // clear() (an abort) forgets everything, and the cache vouches again for what it flushes next.
    named.clear()
    named.put(Buffer.from('a'), Buffer.from('4'), 4)
    named.flush()
    named.put(Buffer.from('a'), Buffer.from('5'), 5)
    named.flush()
    assert.deepEqual(seen.slice(3), [undefined, Buffer.from('4')])
  })

  test('the caching layer reads old values below only for keys it has not flushed yet', () => {
    let reads = 0
    const backend = new MemoryBackend('test')
    const get = backend.get.bind(backend)
    backend.get = (key) => {
      reads++
      return get(key)
    }
    const pending = new PendingWrites(backend)
    const layer = new CachingLayer(pending, new RecordCache(1 << 20), 's')
    const forwarded: [string, string | null, string | null][] = []
    layer.setFlushListener((key, newValue, oldValue) => {
      forwarded.push([keyString(key), text(newValue), text(oldValue)])
    }, true)
    backend.write([{ key: Buffer.from('a'), value: Buffer.from('0') }], null)
    const put = (key: string, value: string | null) =>
      layer.put(Buffer.from(key), value === null ? null : Buffer.from(value), 1)
    put('a', '1')
    put('b', '1')
    layer.flush()
    pending.commit(null)
    assert.equal(reads, 2, 'first flush of each key reads its old value below')
    put('a', '2')
    put('b', '2')
    put('b', '3')
    layer.flush()
    pending.commit(null)
    put('a', null)
    layer.flush()
    pending.commit(null)
    assert.equal(reads, 2, 'later flushes know the old value from the cache')
    assert.deepEqual(forwarded, [
      ['a', '1', '0'],
      ['b', '1', null],
      ['a', '2', '1'],
      ['b', '3', '1'],
      ['a', null, '2']
    ])
    assert.equal(backend.get(Buffer.from('a')), undefined)
  })
})

describe('pending writes count entries lazily', () => {
  test('approximateNumEntries includes uncommitted writes, reading the backend only when asked', () => {
    let reads = 0
    const backend = new MemoryBackend('test')
    const get = backend.get.bind(backend)
    backend.get = (key) => {
      reads++
      return get(key)
    }
    const b = (s: string) => Buffer.from(s)
    backend.write(
      ['a', 'b', 'c'].map((k) => ({ key: b(k), value: b('0') })),
      null
    )
    const pending = new PendingWrites(backend)
    pending.put(b('a'), b('1')) // existed: no change
    pending.put(b('b'), null) // existed: -1
    pending.put(b('d'), b('1')) // new: +1
    pending.put(b('e'), null) // new delete: no change
    assert.equal(reads, 0, 'puts do not read the backend')
    assert.equal(pending.approximateNumEntries(), 3)
    assert.equal(reads, 4)
    pending.put(b('d'), null) // new, now deleted: no change
    pending.put(b('b'), b('2')) // existed, back: no change
    pending.put(b('f'), b('1')) // new: +1
    assert.equal(pending.approximateNumEntries(), 4)
    assert.equal(reads, 5, 'only the key first touched since the last count is read')
    pending.commit(null)
    assert.equal(pending.approximateNumEntries(), 4)
    assert.deepEqual(
      [...backend.range(undefined, undefined, false)].map((e) => e.key.toString()),
      ['a', 'b', 'c', 'f']
    )
    pending.put(b('a'), null)
    pending.abort()
    assert.equal(pending.approximateNumEntries(), 4)
  })
})

describe('pending writes keep key order without an index until a range needs one', () => {
  test('ranges, commits and counts match a sorted model over random operations', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rnd = random(seed * 104729)
      const backend = new MemoryBackend('test')
      const write = backend.write.bind(backend)
      backend.write = (writes, checkpoint) => {
        const keys = [...writes].map((w) => keyString(w.key))
        assert.deepEqual(keys, [...keys].sort(), `seed ${seed}: a commit writes in key order`)
        write(writes, checkpoint)
      }
      const pending = new PendingWrites(backend)
      const committed = new Map<string, string>()
      let batch = new Map<string, string | null>()
      const merged = () => {
        const all = new Map(committed)
        for (const [k, v] of batch) {
          if (v === null) all.delete(k)
          else all.set(k, v)
        }
        return all
      }
      for (let op = 0; op < 1_500; op++) {
        const r = rnd()
        // Keys of varying length with shared prefixes, bytes above 0x7f included: latin1 order is byte order.
        const key = `${String.fromCharCode(97 + Math.floor(rnd() * 3))}${rnd() < 0.3 ? '\xff' : ''}${Math.floor(rnd() * 20)}`
        if (r < 0.6) {
          const value = rnd() < 0.2 ? null : String(op)
          batch.set(key, value)
          pending.put(Buffer.from(key, 'latin1'), value === null ? null : Buffer.from(value))
        } else if (r < 0.75) {
          const from = rnd() < 0.3 ? undefined : key
          const reverse = rnd() < 0.5
          const expected = [...merged().keys()].filter((k) => from === undefined || k >= from).sort()
          if (reverse) expected.reverse()
          const range = pending.range(from === undefined ? undefined : Buffer.from(from, 'latin1'), undefined, reverse)
          const got: string[] = []
          for (let step = range.next(); !step.done; step = range.next()) got.push(keyString(step.value.key))
          assert.deepEqual(got, expected, `seed ${seed} op ${op}: range`)
        } else if (r < 0.85) {
          assert.equal(pending.approximateNumEntries(), merged().size, `seed ${seed} op ${op}: count`)
        } else if (r < 0.95) {
          pending.commit(null)
          for (const [k, v] of batch) {
            if (v === null) committed.delete(k)
            else committed.set(k, v)
          }
          batch = new Map()
        } else {
          pending.abort()
          batch = new Map()
        }
      }
    }
  })
})
