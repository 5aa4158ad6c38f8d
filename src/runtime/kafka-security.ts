/**
 * How every Kafka connection of a process authenticates and encrypts: the `security` part of the app's configuration,
 * also used by `streamlane scaler` and `streamlane autoscale`. Names follow Kafka's own client settings
 * (`security.protocol`, `sasl.mechanism`, `ssl.truststore...`) so a Kafka user recognises them; secrets can come from
 * files so a mounted Kubernetes Secret never passes through an environment variable or the command line.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { ConfigError } from '../errors.ts'
import type { KafkaConnectionSecurity, SaslOptions, SecretProvider } from '../kafka/index.ts'

const path = z.string().min(1)

const saslSchema = z
  .object({
    mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** A file holding the password (a mounted Secret); read again at every new connection, so rotation needs no restart. */
    passwordFile: path.optional(),
    /** OAUTHBEARER: a file holding the token, read again at every (re)authentication (e.g. a projected token). */
    oauthBearerTokenFile: path.optional(),
    /** OAUTHBEARER, for apps defined in code: returns a current token; called at every (re)authentication. */
    oauthBearerTokenProvider: z
      .custom<SecretProvider>((value) => typeof value === 'function', 'must be a function that returns the token')
      .optional()
  })
  .strict()

const sslSchema = z
  .object({
    /** PEM file of the CA(s) that signed the brokers' certificates; the system's CAs when absent. */
    caFile: path.optional(),
    /** PEM client certificate (and chain) for brokers that require client authentication (mutual TLS). */
    certFile: path.optional(),
    /** PEM private key of that certificate. */
    keyFile: path.optional(),
    keyPassword: z.string().min(1).optional(),
    keyPasswordFile: path.optional(),
    /** Check that the broker's certificate names the host connected to (Kafka's ssl.endpoint.identification.algorithm). */
    endpointIdentification: z.boolean().default(true)
  })
  .strict()

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const

export const kafkaSecuritySchema = z
  .object({
    securityProtocol: z.enum(SECURITY_PROTOCOLS).default('PLAINTEXT'),
    sasl: saslSchema.optional(),
    ssl: sslSchema.optional()
  })
  .strict()
  .superRefine((security, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message })
    const protocol = security.securityProtocol
    const usesSasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT'
    const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL'
    if (usesSasl && !security.sasl) issue(['sasl'], `is required when securityProtocol is ${protocol}`)
    if (!usesSasl && security.sasl) {
      issue(['securityProtocol'], `must be SASL_SSL or SASL_PLAINTEXT when sasl is set (got ${protocol})`)
    }
    if (!usesTls && security.ssl) {
      issue(['securityProtocol'], `must be SSL or SASL_SSL when ssl is set (got ${protocol})`)
    }
    const sasl = security.sasl
    if (sasl?.mechanism === 'OAUTHBEARER') {
      for (const field of ['username', 'password', 'passwordFile'] as const) {
        if (sasl[field] !== undefined) issue(['sasl', field], 'does not apply to OAUTHBEARER (it takes a token)')
      }
      const sources = [sasl.oauthBearerTokenFile, sasl.oauthBearerTokenProvider].filter((s) => s !== undefined)
      if (sources.length !== 1) {
        issue(
          ['sasl', 'oauthBearerTokenFile'],
          'OAUTHBEARER needs exactly one of oauthBearerTokenFile and oauthBearerTokenProvider'
        )
      }
    } else if (sasl) {
      if (sasl.username === undefined) issue(['sasl', 'username'], `is required for ${sasl.mechanism}`)
      if ((sasl.password === undefined) === (sasl.passwordFile === undefined)) {
        issue(['sasl', 'password'], `${sasl.mechanism} needs exactly one of password and passwordFile`)
      }
      if (sasl.oauthBearerTokenFile !== undefined || sasl.oauthBearerTokenProvider !== undefined) {
        issue(['sasl', 'mechanism'], 'must be OAUTHBEARER to use an OAuth bearer token')
      }
    }
    const ssl = security.ssl
    if (ssl && (ssl.certFile === undefined) !== (ssl.keyFile === undefined)) {
      issue(['ssl', ssl.certFile === undefined ? 'certFile' : 'keyFile'], 'certFile and keyFile go together')
    }
    if (ssl?.keyPassword !== undefined && ssl.keyPasswordFile !== undefined) {
      issue(['ssl', 'keyPassword'], 'set keyPassword or keyPasswordFile, not both')
    }
  })

export type KafkaSecurityInput = z.input<typeof kafkaSecuritySchema>
export type KafkaSecurity = z.output<typeof kafkaSecuritySchema>

type EnvironmentField = { section?: 'sasl' | 'ssl'; field: string; parse?: (value: string, name: string) => unknown }

function booleanValue(value: string, name: string): boolean {
  if (value === 'true' || value === 'https') return true
  if (value === 'false' || value === 'none') return false
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(value)}`)
}

/** The environment variables, Kafka's setting names in upper case under `KAFKA_`. */
export const KAFKA_SECURITY_ENVIRONMENT: Record<string, EnvironmentField> = {
  KAFKA_SECURITY_PROTOCOL: { field: 'securityProtocol' },
  KAFKA_SASL_MECHANISM: { section: 'sasl', field: 'mechanism' },
  KAFKA_SASL_USERNAME: { section: 'sasl', field: 'username' },
  KAFKA_SASL_PASSWORD: { section: 'sasl', field: 'password' },
  KAFKA_SASL_PASSWORD_FILE: { section: 'sasl', field: 'passwordFile' },
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: { section: 'sasl', field: 'oauthBearerTokenFile' },
  KAFKA_SSL_CA_FILE: { section: 'ssl', field: 'caFile' },
  KAFKA_SSL_CERT_FILE: { section: 'ssl', field: 'certFile' },
  KAFKA_SSL_KEY_FILE: { section: 'ssl', field: 'keyFile' },
  KAFKA_SSL_KEY_PASSWORD: { section: 'ssl', field: 'keyPassword' },
  KAFKA_SSL_KEY_PASSWORD_FILE: { section: 'ssl', field: 'keyPasswordFile' },
  KAFKA_SSL_ENDPOINT_IDENTIFICATION: { section: 'ssl', field: 'endpointIdentification', parse: booleanValue }
}

/** The `security` settings given by environment variables (empty variables count as unset). */
export function kafkaSecurityFromEnvironment(env: NodeJS.ProcessEnv = process.env): KafkaSecurityInput | undefined {
  const security: Record<string, unknown> = {}
  for (const [name, { section, field, parse }] of Object.entries(KAFKA_SECURITY_ENVIRONMENT)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    if (section && security[section] === undefined) security[section] = {}
    const target = section ? (security[section] as Record<string, unknown>) : security
    target[field] = parse ? parse(value, name) : value
  }
  return Object.keys(security).length > 0 ? (security as KafkaSecurityInput) : undefined
}

/**
 * Layers of `security` settings, later wins field by field (so the environment can add a password file to the
 * mechanism and user an app module names).
 */
export function mergeKafkaSecurity(...layers: (KafkaSecurityInput | undefined)[]): KafkaSecurityInput | undefined {
  const present = layers.filter((l): l is KafkaSecurityInput => l !== undefined)
  if (present.length === 0) return undefined
  const merged: Record<string, unknown> = Object.assign({}, ...present)
  for (const section of ['sasl', 'ssl'] as const) {
    const parts = present.map((l) => l[section]).filter((p) => p !== undefined)
    if (parts.length > 0) merged[section] = Object.assign({}, ...parts)
  }
  return merged as KafkaSecurityInput
}

/** Validates `security` settings alone (the CLI's scaler and autoscaler), naming the field under `prefix`. */
export function parseKafkaSecurity(input: KafkaSecurityInput | undefined, prefix = 'security'): KafkaSecurity {
  const result = kafkaSecuritySchema.safeParse(input ?? {})
  if (!result.success) {
    const issue = result.error.issues[0]!
    const unknown = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : ''
    throw new ConfigError([prefix, ...issue.path].join('.'), `${issue.message}${unknown}`)
  }
  return result.data
}

function readSecretFile(field: string, file: string): string {
  try {
    // A Secret written with `echo` ends with a newline that is not part of the secret.
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
  } catch (error) {
    throw new ConfigError(
      field,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`
    )
  }
}

/** A secret file is read once now (so a missing file fails at start, naming the field), then at every use. */
function fileSecret(field: string, file: string): SecretProvider {
  readSecretFile(field, file)
  return () => readSecretFile(field, file)
}

/**
 * Turns validated settings into the Kafka layer's connection options, reading the certificate files (a missing or
 * unreadable file is an error naming the field and the path). Nothing here is logged: the result holds secrets.
 */
export function kafkaConnectionSecurity(security: KafkaSecurity, prefix = 'security'): KafkaConnectionSecurity {
  const result: KafkaConnectionSecurity = {}
  const protocol = security.securityProtocol
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const ssl = security.ssl
    const tls: Record<string, unknown> = {}
    if (ssl?.caFile) tls.ca = readSecretFile(`${prefix}.ssl.caFile`, ssl.caFile)
    if (ssl?.certFile) tls.cert = readSecretFile(`${prefix}.ssl.certFile`, ssl.certFile)
    if (ssl?.keyFile) tls.key = readSecretFile(`${prefix}.ssl.keyFile`, ssl.keyFile)
    if (ssl?.keyPassword) tls.passphrase = ssl.keyPassword
    if (ssl?.keyPasswordFile) tls.passphrase = readSecretFile(`${prefix}.ssl.keyPasswordFile`, ssl.keyPasswordFile)
    // The chain is still verified against the CA; only the host name check is skipped.
    if (ssl?.endpointIdentification === false) tls.checkServerIdentity = () => undefined
    result.tls = tls
  }
  const sasl = security.sasl
  if (sasl) result.sasl = saslOptions(sasl, `${prefix}.sasl`)
  return result
}

function saslOptions(sasl: NonNullable<KafkaSecurity['sasl']>, prefix: string): SaslOptions {
  if (sasl.mechanism === 'OAUTHBEARER') {
    const token =
      sasl.oauthBearerTokenProvider ?? fileSecret(`${prefix}.oauthBearerTokenFile`, sasl.oauthBearerTokenFile!)
    return { mechanism: 'OAUTHBEARER', token }
  }
  const password = sasl.password ?? fileSecret(`${prefix}.passwordFile`, sasl.passwordFile!)
  return { mechanism: sasl.mechanism, username: sasl.username!, password }
}
