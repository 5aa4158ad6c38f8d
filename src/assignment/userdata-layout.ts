import { formatTaskId, parseTaskId, sortTaskIds, type TaskIdText } from '../task-id.ts'
import type { ByteReader, ByteWriter } from './byte-codec.ts'
import { UserDataCorruptError, type UserDataKind, UserDataVersionError } from './errors.ts'
import type { TopicPartitions } from './tasks.ts'

/*
 * Pieces both userData messages share: the versioned header and compact sets of task ids / partitions.
 *
 * Header (3 bytes):
 *   magic             u8   0x53 'S' for subscription, 0x41 'A' for assignment (catches a message read as the other)
 *   version           u8   layout version the writer used
 *   minReaderVersion  u8   oldest reader version that can decode it
 *
 * Evolution rule: a new version only APPENDS fields. Then it keeps minReaderVersion unchanged, and an older reader
 * decodes the prefix it knows and ignores the trailing bytes. A layout that cannot be append-only raises
 * minReaderVersion, and older readers fail with UserDataVersionError naming both versions.
 *
 * Task set: uvarint group count; per sub-topology (ascending): uvarint subtopologyId, uvarint n, then n partitions as
 * uvarint deltas (first one absolute) of the ascending list. A set of 64 tasks of one sub-topology takes ~66 bytes.
 */

export interface UserDataHeader {
  version: number
  minReaderVersion: number
}

export function writeHeader(writer: ByteWriter, magic: number, version: number, minReaderVersion: number): void {
  writer.u8(magic)
  writer.u8(version)
  writer.u8(minReaderVersion)
}

export function readHeader(
  reader: ByteReader,
  kind: UserDataKind,
  magic: number,
  supportedVersion: number
): UserDataHeader {
  if (reader.remaining === 0) throw new UserDataCorruptError(kind, 'empty userData (not written by Streamlane)')
  const actualMagic = reader.u8()
  if (actualMagic !== magic) {
    throw reader.corrupt(
      `magic byte 0x${actualMagic.toString(16)} is not 0x${magic.toString(16)}: not Streamlane ${kind} userData`
    )
  }
  const version = reader.u8()
  const minReaderVersion = reader.u8()
  if (version === 0 || minReaderVersion === 0 || minReaderVersion > version) {
    throw reader.corrupt(`invalid version ${version} / minReaderVersion ${minReaderVersion}`)
  }
  if (minReaderVersion > supportedVersion) {
    throw new UserDataVersionError(kind, version, minReaderVersion, supportedVersion)
  }
  return { version, minReaderVersion }
}

/** Trailing bytes are fields of a newer version (ignored); from the same or an older writer they mean corruption. */
export function finishRead(reader: ByteReader, header: UserDataHeader, supportedVersion: number): void {
  if (reader.remaining > 0 && header.version <= supportedVersion) {
    throw reader.corrupt(`${reader.remaining} unexpected trailing bytes`)
  }
}

export function writeTaskSet(writer: ByteWriter, tasks: Iterable<TaskIdText>): void {
  const groups = new Map<number, number[]>()
  for (const task of sortTaskIds(tasks)) {
    const { subtopologyId, partition } = parseTaskId(task)
    let partitions = groups.get(subtopologyId)
    if (!partitions) {
      partitions = []
      groups.set(subtopologyId, partitions)
    }
    partitions.push(partition)
  }
  writer.uvarint(groups.size)
  for (const [subtopologyId, partitions] of groups) {
    writer.uvarint(subtopologyId)
    writePartitionList(writer, partitions)
  }
}

/** Reads a task set; ids come back sorted (the encoding is canonical). */
export function readTaskSet(reader: ByteReader): TaskIdText[] {
  const tasks: TaskIdText[] = []
  const groupCount = reader.count(2)
  let previousSubtopology = -1
  for (let g = 0; g < groupCount; g++) {
    const subtopologyId = reader.uvarint()
    if (subtopologyId <= previousSubtopology) throw reader.corrupt('sub-topology ids not strictly ascending')
    previousSubtopology = subtopologyId
    for (const partition of readPartitionList(reader)) tasks.push(formatTaskId(subtopologyId, partition))
  }
  return tasks
}

/** Ascending, de-duplicated partitions as count + deltas. */
export function writePartitionList(writer: ByteWriter, partitions: Iterable<number>): void {
  const sorted = [...new Set(partitions)].sort((a, b) => a - b)
  writer.uvarint(sorted.length)
  let previous = 0
  for (const partition of sorted) {
    writer.uvarint(partition - previous)
    previous = partition
  }
}

export function readPartitionList(reader: ByteReader): number[] {
  const count = reader.count(1)
  const partitions: number[] = []
  let previous = 0
  for (let i = 0; i < count; i++) {
    const delta = reader.uvarint()
    if (i > 0 && delta === 0) throw reader.corrupt('duplicate partition in a partition list')
    previous += delta
    if (!Number.isSafeInteger(previous)) throw reader.corrupt('partition number overflows')
    partitions.push(previous)
  }
  return partitions
}

/**
 * endpoint -> topic partitions, with topic names written once in a dictionary because every member receives the
 * whole map: host count, then per host (sorted) its endpoint and (topic index, partition list) entries.
 */
export function writeHostPartitions(
  writer: ByteWriter,
  topics: readonly string[],
  byHost: ReadonlyMap<string, readonly TopicPartitions[]>
): void {
  const topicIndex = new Map(topics.map((topic, index) => [topic, index]))
  const hosts = [...byHost.keys()].sort()
  writer.uvarint(hosts.length)
  for (const host of hosts) {
    writer.string(host)
    const entries = byHost.get(host) ?? []
    writer.uvarint(entries.length)
    for (const entry of entries) {
      writer.uvarint(topicIndex.get(entry.topic)!)
      writePartitionList(writer, entry.partitions)
    }
  }
}

export function readHostPartitions(reader: ByteReader, topics: readonly string[]): Map<string, TopicPartitions[]> {
  const byHost = new Map<string, TopicPartitions[]>()
  const hostCount = reader.count(2)
  for (let h = 0; h < hostCount; h++) {
    const host = reader.string()
    const entryCount = reader.count(2)
    const entries: TopicPartitions[] = []
    for (let e = 0; e < entryCount; e++) {
      const index = reader.uvarint()
      const topic = topics[index]
      if (topic === undefined) throw reader.corrupt(`topic index ${index} outside the dictionary of ${topics.length}`)
      entries.push({ topic, partitions: readPartitionList(reader) })
    }
    byHost.set(host, entries)
  }
  return byHost
}

/** The sorted topic dictionary for the given host maps. */
export function topicDictionary(...maps: ReadonlyMap<string, readonly TopicPartitions[]>[]): string[] {
  const topics = new Set<string>()
  for (const map of maps) for (const entries of map.values()) for (const entry of entries) topics.add(entry.topic)
  return [...topics].sort()
}
