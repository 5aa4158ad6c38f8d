import { readFileSync } from 'node:fs'
import { EndpointSecretError } from './errors.ts'

/**
 * A secret given either inline (an environment variable) or as a file (a mounted Kubernetes Secret); the file wins
 * when both are set, so a Secret mount overrides a leftover variable. The value is trimmed (Secrets made with `echo`
 * end in a newline). Errors name the setting and the path, never the content.
 */
export function readSecret(setting: string, inline: string | undefined, file: string | undefined): string | undefined {
  if (file !== undefined && file !== '') {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new EndpointSecretError(setting, `cannot read ${file} (${reason})`, { cause: error })
    }
    const value = text.trim()
    if (value === '') throw new EndpointSecretError(setting, `${file} is empty`)
    return value
  }
  const value = inline?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** Reads a PEM file (certificate, key or CA bundle) for a TLS listener; the error names the setting and the path. */
export function readPemFile(setting: string, file: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(file)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new EndpointSecretError(setting, `cannot read ${file} (${reason})`, { cause: error })
  }
  if (!pem.toString('latin1').includes('-----BEGIN ')) {
    throw new EndpointSecretError(setting, `${file} is not PEM (no "-----BEGIN" line)`)
  }
  return pem
}
