/**
 * The Kafka security flags shared by `streamlane scaler` and `streamlane autoscale`: one flag per `KAFKA_*` variable
 * of the app's configuration (`--sasl-password-file` is `KAFKA_SASL_PASSWORD_FILE`), so the scaler and the apps it
 * scales are configured the same way. Passwords themselves have no flag (a command line is visible to every user of
 * the machine): `KAFKA_SASL_PASSWORD` / `KAFKA_SSL_KEY_PASSWORD` or, better, the `..._FILE` variants.
 */
import { type Command, Option } from 'commander'
import { ConfigError } from '../errors.ts'
import type { KafkaConnectionSecurity } from '../kafka/index.ts'
import {
  KAFKA_SECURITY_ENVIRONMENT,
  kafkaConnectionSecurity,
  kafkaSecurityFromEnvironment,
  parseKafkaSecurity
} from '../runtime/index.ts'

const SECRETS_WITHOUT_FLAG = new Set(['KAFKA_SASL_PASSWORD', 'KAFKA_SSL_KEY_PASSWORD'])

const HELP: Record<string, string> = {
  KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL',
  KAFKA_SASL_MECHANISM: 'PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER',
  KAFKA_SASL_USERNAME: 'SASL user (PLAIN, SCRAM)',
  KAFKA_SASL_PASSWORD_FILE: 'file holding the SASL password (or env KAFKA_SASL_PASSWORD)',
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: 'file holding the OAUTHBEARER token, re-read at each authentication',
  KAFKA_SSL_CA_FILE: "PEM CA file that signed the brokers' certificates (default: the system's CAs)",
  KAFKA_SSL_CERT_FILE: 'PEM client certificate, for brokers that require one',
  KAFKA_SSL_KEY_FILE: 'PEM private key of the client certificate',
  KAFKA_SSL_KEY_PASSWORD_FILE: 'file holding the password of the private key (or env KAFKA_SSL_KEY_PASSWORD)',
  KAFKA_SSL_ENDPOINT_IDENTIFICATION: "true (default): check the broker's certificate names its host"
}

function flagOf(variable: string): string {
  return `--${variable.slice('KAFKA_'.length).toLowerCase().replaceAll('_', '-')}`
}

function attributeOf(variable: string): string {
  return flagOf(variable)
    .slice(2)
    .replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

const FLAGGED = Object.keys(KAFKA_SECURITY_ENVIRONMENT).filter((variable) => !SECRETS_WITHOUT_FLAG.has(variable))

/** Adds `--security-protocol`, `--sasl-mechanism`, ... `--ssl-ca-file`, each also read from its `KAFKA_*` variable. */
export function addKafkaSecurityOptions(command: Command): Command {
  for (const variable of FLAGGED) {
    const placeholder = variable.endsWith('_FILE') ? '<file>' : '<value>'
    command.addOption(new Option(`${flagOf(variable)} ${placeholder}`, `Kafka: ${HELP[variable]}`).env(variable))
  }
  return command
}

/**
 * The connection security the flags (and the password variables) describe, certificate files read. A bad value is a
 * ConfigError naming the flag and its variable.
 */
export function kafkaSecurityFromOptions(
  options: object,
  env: NodeJS.ProcessEnv = process.env
): KafkaConnectionSecurity {
  const values: NodeJS.ProcessEnv = {}
  for (const variable of FLAGGED)
    values[variable] = (options as Record<string, string | undefined>)[attributeOf(variable)]
  for (const variable of SECRETS_WITHOUT_FLAG) values[variable] = env[variable]
  try {
    return kafkaConnectionSecurity(parseKafkaSecurity(kafkaSecurityFromEnvironment(values), ''), '')
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw new ConfigError(flagNaming(error.field), error.message.replace(/^invalid configuration [^:]*: /, ''))
  }
}

/** For a command's action: the connection security, or the command's usage error naming the bad flag. */
export function cliKafkaSecurity(options: object, command: Command): KafkaConnectionSecurity {
  try {
    return kafkaSecurityFromOptions(options)
  } catch (error) {
    if (error instanceof ConfigError) command.error(`error: ${error.message}`)
    throw error
  }
}

/** `sasl.passwordFile` -> `--sasl-password-file (KAFKA_SASL_PASSWORD_FILE)`. */
function flagNaming(field: string): string {
  const path = field.replace(/^\./, '')
  const entry = Object.entries(KAFKA_SECURITY_ENVIRONMENT).find(
    ([variable, { section, field: name }]) => (section ? `${section}.${name}` : name) === path || variable === path
  )
  if (!entry) return path
  const [variable] = entry
  return SECRETS_WITHOUT_FLAG.has(variable) ? variable : `${flagOf(variable)} (${variable})`
}
