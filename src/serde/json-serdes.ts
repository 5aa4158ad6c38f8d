import type { output, ZodType } from 'zod'
import { kind } from './primitive-serdes.ts'
import type { Serde } from './serde.ts'
import { DeserializationError, SerializationError } from './serde-errors.ts'

/** JSON text in UTF-8, without validation: the type parameter is a promise the topic's producers must keep. */
export function jsonSerde<T = unknown>(): Serde<T> {
  return {
    serialize(topic, value) {
      if (value === null) return null
      return Buffer.from(stringify(topic, value), 'utf8')
    },
    deserialize(topic, data) {
      if (data === null) return null
      return parse(topic, data) as T
    }
  }
}

export interface JsonSchemaSerdeOptions {
  /** Validate values before writing them too, so a bug never reaches the topic (default true). */
  readonly validateOnSerialize?: boolean
}

/**
 * JSON validated by a zod schema on read (and by default on write). A record that does not match fails with the
 * schema's issues, each with its path, so the dead-letter headers or the error say which field was wrong.
 */
export function jsonSchemaSerde<S extends ZodType>(schema: S, options: JsonSchemaSerdeOptions = {}): Serde<output<S>> {
  const validateOnSerialize = options.validateOnSerialize ?? true
  return {
    serialize(topic, value) {
      if (value === null) return null
      if (validateOnSerialize) {
        const result = schema.safeParse(value)
        if (!result.success) {
          throw new SerializationError({
            topic,
            reason: `does not match the schema: ${formatIssues(result.error.issues)}`
          })
        }
      }
      return Buffer.from(stringify(topic, value), 'utf8')
    },
    deserialize(topic, data) {
      if (data === null) return null
      const result = schema.safeParse(parse(topic, data))
      if (!result.success) {
        throw new DeserializationError(
          { topic, reason: `does not match the schema: ${formatIssues(result.error.issues)}` },
          { cause: result.error }
        )
      }
      return result.data as output<S>
    }
  }
}

function stringify(topic: string, value: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new SerializationError(
      { topic, reason: `not representable as JSON: ${(error as Error).message}` },
      { cause: error }
    )
  }
  if (text === undefined) throw new SerializationError({ topic, reason: `${kind(value)} is not representable as JSON` })
  return text
}

function parse(topic: string, data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'))
  } catch (error) {
    throw new DeserializationError({ topic, reason: `invalid JSON: ${(error as Error).message}` }, { cause: error })
  }
}

interface Issue {
  readonly path: readonly PropertyKey[]
  readonly message: string
}

function formatIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ')
}
