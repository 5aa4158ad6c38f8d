import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Bearer tokens for Streamlane's HTTP endpoints. A token is compared in constant time: both sides are hashed to 32
 * bytes first (so their lengths leak nothing) and every configured token is compared, with no early exit. Tokens never
 * appear in logs or error messages.
 */
export interface TokenMatch {
  /** The groups the matched token may act for; undefined = every group the endpoint serves. */
  groups: ReadonlySet<string> | undefined
}

export interface BearerToken {
  token: string
  /** Set when the token is bound to one group (a line `<group> <token>` of a token file). */
  group?: string
}

/**
 * Parses a token file or variable: one token per line; a line `<group> <token>` binds the token to that group (each
 * app its own report token, so one app's credentials cannot steer another's scaling). Blank lines and `#` comments
 * are ignored.
 */
export function parseTokens(text: string): BearerToken[] {
  const tokens: BearerToken[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const parts = line.split(/\s+/)
    if (parts.length >= 2) tokens.push({ group: parts[0] as string, token: parts.slice(1).join(' ') })
    else tokens.push({ token: line })
  }
  return tokens
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest()

/** The value of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value)
  return match?.[1]
}

/** A checker over a fixed set of tokens; `match` returns null for a missing or wrong token. */
export function tokenChecker(tokens: readonly BearerToken[]): (presented: string | undefined) => TokenMatch | null {
  const hashed = tokens.map((t) => ({ digest: digest(t.token), group: t.group }))
  return (presented) => {
    if (presented === undefined || hashed.length === 0) return null
    const candidate = digest(presented)
    let matched = false
    let unbound = false
    const groups = new Set<string>()
    for (const t of hashed) {
      // Every token is compared: which one matched (or whether any did) must not show in the time taken.
      if (timingSafeEqual(candidate, t.digest)) {
        matched = true
        if (t.group === undefined) unbound = true
        else groups.add(t.group)
      }
    }
    if (!matched) return null
    return { groups: unbound ? undefined : groups }
  }
}
