import type { StreamlaneErrorCode } from './error-codes.ts'

/**
 * Base of every error Streamlane raises. `code` is stable across releases so callers and log queries can match on
 * it; the message names what failed and where (broker, topic, partition, offset, group, store or option). The codes
 * are one closed list: error-codes.ts, documented in docs/errors.md.
 */
export class StreamlaneError extends Error {
  readonly code: StreamlaneErrorCode

  constructor(code: StreamlaneErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A configuration value is missing or invalid; `field` is the option's path, e.g. `kafka.sessionTimeoutMs`. */
export class ConfigError extends StreamlaneError {
  readonly field: string

  constructor(field: string, message: string) {
    super('STREAMLANE_CONFIG_INVALID', `invalid configuration ${field}: ${message}`)
    this.field = field
  }
}
