/** The Streamlane side of the differential suite: every case through `streamlane/testing`'s TopologyTestDriver. */
import { bytesSerde, stringSerde } from '../../src/serde/primitive-serdes.ts'
import type { TestInputTopic, TestOutputTopic } from '../../src/testing/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import type { ConformanceCase } from './cases.ts'
import type { CaseOutput, OutputRecord } from './compare.ts'
import { buildTopology } from './topologies.ts'

export const APPLICATION_ID = 'conformance'

export async function runStreamlane(c: ConformanceCase): Promise<CaseOutput> {
  const records: OutputRecord[] = []
  let driver: TopologyTestDriver | undefined
  try {
    driver = new TopologyTestDriver(buildTopology(c.topology, c.params), {
      applicationId: APPLICATION_ID,
      cacheMaxBytes: c.cacheMaxBytes
    })
    const inputs = new Map<string, TestInputTopic<string | null, string | null>>()
    const outputs = new Map<string, TestOutputTopic<Buffer | null, Buffer | null>>()
    for (const [index, event] of c.events.entries()) {
      if (event.kind === 'pipe') {
        let topic = inputs.get(event.topic)
        if (topic === undefined) {
          topic = driver.createInputTopic(event.topic, stringSerde(), stringSerde()) as never
          inputs.set(event.topic, topic!)
        }
        await topic!.pipeInput(event.key, event.value, event.timestamp)
      } else {
        await driver.advanceWallClockTime(event.ms)
      }
      for (const name of driver.producedTopicNames().sort()) {
        if (name.startsWith(`${APPLICATION_ID}-`)) continue
        let output = outputs.get(name)
        if (output === undefined) {
          output = driver.createOutputTopic(name, bytesSerde(), bytesSerde()) as never
          outputs.set(name, output!)
        }
        for (const r of output!.readRecordsToList()) {
          records.push({ after: index, topic: name, key: r.key, value: r.value, timestamp: r.timestamp })
        }
      }
    }
    return { records, error: null, done: true }
  } catch (error) {
    return { records, error: String(error), done: false }
  } finally {
    await driver?.close()
  }
}
