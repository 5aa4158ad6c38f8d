import { type Command, InvalidArgumentError } from 'commander'
import { createAdmin } from '../../kafka/index.ts'
import { kafkaConnectionOf } from '../../runtime/index.ts'
import { planTopology } from '../../topology/index.ts'
import { loadAppModule } from '../app-module.ts'
import { appTopics } from '../app-topics.ts'

interface TopicsCreateOptions {
  config?: string
  partitions: number
  replicationFactor?: number
}

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a whole number >= 1`)
  return n
}

/**
 * `streamlane topics create <module>`: creates the input, output and dead-letter topics an app needs that do not
 * exist yet. Its
 * internal topics (repartition, changelog) are the app's own: it creates them at start with the counts it needs.
 */
export function registerTopics(program: Command): void {
  const topics = program.command('topics').description("manage an app's topics")
  topics
    .command('create')
    .description("create the app's missing input (source), output (sink) and dead-letter topics")
    .argument('<module>', 'path to the app module (.ts or .js)')
    .option('-c, --config <file>', 'JSON file with configuration options (as for run)')
    .option(
      '--partitions <n>',
      'partitions of each topic created (the most instances that can share the work)',
      positive,
      1
    )
    .option(
      '--replication-factor <n>',
      "copies of each partition (default: the app's replicationFactor, else the broker's default)",
      positive
    )
    .action(async (modulePath: string, options: TopicsCreateOptions) => {
      const { definition, topology, config } = await loadAppModule(modulePath, {
        configFile: options.config,
        withConfig: true
      })
      const plan = planTopology(topology, config!.applicationId)
      const replicationFactor =
        options.replicationFactor ?? (config!.replicationFactor === -1 ? undefined : config!.replicationFactor)
      const admin = createAdmin(kafkaConnectionOf(config!))
      try {
        const existing = await admin.listTopics()
        const { inputs, outputs, deadLetters, patterns } = appTopics(plan, existing, definition.errorHandlers, [
          config!.shareGroup?.deadLetterTopic
        ])
        for (const pattern of patterns) {
          process.stdout.write(`source pattern ${pattern}: create the topics it should match yourself\n`)
        }
        const wanted = [
          ...inputs.map((name) => ({ name, role: 'input' })),
          ...outputs.map((name) => ({ name, role: 'output' })),
          ...deadLetters.map((name) => ({ name, role: 'dead-letter' }))
        ]
        const missing = wanted.filter(({ name }) => !existing.includes(name))
        const present = wanted.filter(({ name }) => existing.includes(name))
        const described = await admin.describeTopics(present.map(({ name }) => name))
        for (const [i, { name, role }] of present.entries()) {
          const count = described[i]?.partitions.length ?? 0
          process.stdout.write(`exists  ${role} ${name} (${count} partition${count === 1 ? '' : 's'}): skipped\n`)
        }
        if (missing.length > 0) {
          await admin.createTopics(
            missing.map(({ name }) => ({
              name,
              partitions: options.partitions,
              ...(replicationFactor === undefined ? {} : { replicationFactor })
            })),
            { ifNotExists: true }
          )
        }
        for (const { name, role } of missing) {
          process.stdout.write(
            `created ${role} ${name} (${options.partitions} partition${options.partitions === 1 ? '' : 's'})\n`
          )
        }
      } finally {
        await admin.close()
      }
    })
}
