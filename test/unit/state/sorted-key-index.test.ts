import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { keyBytes, keyString } from '../../../src/state/bytes.ts'
import { MemoryBackend } from '../../../src/state/memory-backend.ts'
import { SortedKeyIndex } from '../../../src/state/sorted-key-index.ts'

/** A deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    return state / 0x7fffffff
  }
}

function randomKey(next: () => number): string {
  const length = Math.floor(next() * 4)
  let key = ''
  for (let i = 0; i < length; i++) key += String.fromCharCode(Math.floor(next() * 256))
  return key
}

function reference(keys: Set<string>, from: string | undefined, to: string | undefined, reverse: boolean): string[] {
  const sorted = [...keys].sort((a, b) => Buffer.compare(keyBytes(a), keyBytes(b)))
  const inRange = sorted.filter((k) => (from === undefined || k >= from) && (to === undefined || k <= to))
  return reverse ? inRange.reverse() : inRange
}

describe('SortedKeyIndex', () => {
  test('latin1 string order is unsigned byte order', () => {
    const buffers = [
      Buffer.from([0xff]),
      Buffer.from([0x00]),
      Buffer.from([0x7f, 0x80]),
      Buffer.from([0x7f]),
      Buffer.alloc(0)
    ]
    const byBytes = [...buffers].sort(Buffer.compare).map(keyString)
    const byString = buffers.map(keyString).sort()
    assert.deepEqual(byString, byBytes)
  })

  test('matches a sorted reference under random inserts, deletes and ranges (many chunks)', () => {
    const next = random(7)
    const index = new SortedKeyIndex()
    const keys = new Set<string>()
    for (let round = 0; round < 20_000; round++) {
      const key = randomKey(next)
      if (next() < 0.7) {
        if (!keys.has(key)) {
          keys.add(key)
          index.insert(key)
        }
      } else if (keys.has(key)) {
        keys.delete(key)
        index.delete(key)
      }
    }
    assert.equal(index.size, keys.size)
    for (let round = 0; round < 300; round++) {
      let from: string | undefined = next() < 0.2 ? undefined : randomKey(next)
      let to: string | undefined = next() < 0.2 ? undefined : randomKey(next)
      if (from !== undefined && to !== undefined && from > to) [from, to] = [to, from]
      const reverse = next() < 0.5
      assert.deepEqual(
        [...index.range(from, to, reverse)],
        reference(keys, from, to, reverse),
        `${from}..${to} ${reverse}`
      )
    }
  })

  test('a cursor continues after the last key it returned when the set changes under it', () => {
    const index = new SortedKeyIndex()
    for (let i = 0; i < 3000; i++) index.insert(String(i).padStart(5, '0'))
    const seen: string[] = []
    for (const key of index.range(undefined, undefined, false)) {
      seen.push(key)
      // Deleting the current key and inserting behind the cursor must neither repeat nor skip keys ahead.
      index.delete(key)
      if (key === '01000') index.insert('00000x')
    }
    assert.equal(seen.length, 3000)
    assert.deepEqual(seen, [...seen].sort())
    assert.equal(index.size, 1)
  })

  test('the in-memory backend holds 1M random keys in order', () => {
    const backend = new MemoryBackend('bench')
    const next = random(11)
    const batch: { key: Buffer; value: Buffer }[] = []
    for (let i = 0; i < 1_000_000; i++) {
      const key = Buffer.allocUnsafe(8)
      key.writeUInt32BE(Math.floor(next() * 0xffffffff), 0)
      key.writeUInt32BE(i, 4)
      batch.push({ key, value: key })
    }
    backend.write(batch, null)
    let count = 0
    let previous: Buffer | undefined
    for (const { key } of backend.range(undefined, undefined, false)) {
      if (previous !== undefined) assert.ok(Buffer.compare(previous, key) < 0)
      previous = key
      count++
    }
    assert.equal(count, 1_000_000)
  })
})
