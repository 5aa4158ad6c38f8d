import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import { createAdmin, type KafkaAdmin } from '../../kafka/index.ts'
import { kafkaConnectionOf } from '../../runtime/index.ts'
import { planTopology } from '../../topology/index.ts'
import { loadAppModule } from '../app-module.ts'
import { appTopics } from '../app-topics.ts'
import { ResetGroupActiveError } from '../errors.ts'
import { describeResetPlan, planReset, type ResetPlan, type ResetTarget } from '../reset-plan.ts'

interface ResetOptions {
  config?: string
  toDatetime?: number
  dryRun?: boolean
}

function datetime(value: string): number {
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError(`"${value}" is not an ISO 8601 date-time, e.g. 2026-12-07T09:00:00Z`)
  }
  return ms
}

/**
 * `streamlane reset <module>`: makes the app reprocess its input from the start (or from a time), like Kafka
 * Streams' application reset tool. The app's group must have no members; every instance must be stopped.
 */
export function registerReset(program: Command): void {
  program
    .command('reset')
    .description(
      "reset an app to reprocess its input: rewind the group's input offsets, delete its internal topics, wipe its local state"
    )
    .argument('<module>', 'path to the app module (.ts or .js)')
    .option('-c, --config <file>', 'JSON file with configuration options (as for run)')
    .option('--to-datetime <iso>', 'rewind to the first offset at or after this time instead of the earliest', datetime)
    .option('--dry-run', 'print what would be done, change nothing')
    .action(async (modulePath: string, options: ResetOptions) => {
      const { topology, config } = await loadAppModule(modulePath, { configFile: options.config, withConfig: true })
      const plan = planTopology(topology, config!.applicationId)
      const target: ResetTarget =
        options.toDatetime === undefined ? { kind: 'earliest' } : { kind: 'datetime', timestampMs: options.toDatetime }
      const admin = createAdmin(kafkaConnectionOf(config!))
      try {
        const groupId = config!.applicationId
        await refuseIfActive(admin, groupId)
        const existingTopics = await admin.listTopics()
        const topics = appTopics(plan, existingTopics)
        const present = topics.inputs.filter((topic) => existingTopics.includes(topic))
        const spec = target.kind === 'earliest' ? 'earliest' : { timestamp: target.timestampMs }
        const stateDir = join(config!.stateDir, config!.applicationId)
        const reset = planReset({
          applicationId: groupId,
          topics,
          existingTopics,
          target,
          targetOffsets:
            present.length > 0
              ? await admin.listOffsets(
                  present.map((topic) => ({ topic })),
                  spec
                )
              : new Map(),
          committed: present.length > 0 ? await admin.fetchGroupOffsets(groupId, present) : [],
          stateDir: { path: stateDir, exists: existsSync(stateDir) }
        })
        for (const line of describeResetPlan(reset, options.dryRun === true)) process.stdout.write(`${line}\n`)
        if (options.dryRun) return
        await applyReset(admin, groupId, reset)
        process.stdout.write(`reset ${groupId}: done\n`)
      } finally {
        await admin.close()
      }
    })
}

async function refuseIfActive(admin: KafkaAdmin, groupId: string): Promise<void> {
  const [group] = await admin.describeGroups([groupId])
  if (group && group.members.length > 0) throw new ResetGroupActiveError(groupId, group.state, group.members)
}

/** Offsets first, as Kafka Streams' tool does: the alteration itself is refused if a member joined meanwhile. */
async function applyReset(admin: KafkaAdmin, groupId: string, reset: ResetPlan): Promise<void> {
  if (reset.offsets.length > 0) {
    await admin.alterGroupOffsets(
      groupId,
      reset.offsets.map(({ topic, partition, to }) => ({ topic, partition, offset: to }))
    )
  }
  if (reset.deleteTopics.length > 0) await admin.deleteTopics(reset.deleteTopics, { ifExists: true })
  if (reset.wipeStateDir !== null) rmSync(reset.wipeStateDir, { recursive: true, force: true })
}
