import type { FastifyInstance, FastifyRequest } from 'fastify'
import { bearerOf, type TokenMatch } from './bearer-token.ts'

/** Which token a request needs: a checker from tokenChecker(), or undefined for an open route (probes). */
export type AccessRule = (request: FastifyRequest) => ((presented: string | undefined) => TokenMatch | null) | undefined

export interface TokenGuardOptions {
  rule: AccessRule
  /**
   * Every token the endpoint takes on some route: a token the route's rule refuses but this one knows is valid yet
   * not allowed here, answered 403 (STREAMLANE_ENDPOINT_FORBIDDEN) instead of 401.
   */
  known?: (presented: string | undefined) => TokenMatch | null
  /** Called once per request refused with 401 (a metric); never given the token. */
  onRefused?: (reason: 'token-missing' | 'token-wrong', request: FastifyRequest) => void
}

const grants = new WeakMap<FastifyRequest, TokenMatch>()

/** What the request's token allows (undefined on an open route). */
export function grantOf(request: FastifyRequest): TokenMatch | undefined {
  return grants.get(request)
}

/**
 * Checks the bearer token in `onRequest`, before fastify reads the body: a caller without the token cannot make the
 * server buffer anything. A refusal is 401 with `WWW-Authenticate: Bearer` and the usual JSON error shape; 403 for a
 * token the endpoint knows (`known`) that this route does not take.
 */
export function guardRequests(app: FastifyInstance, options: TokenGuardOptions): void {
  app.addHook('onRequest', async (request, reply) => {
    const check = options.rule(request)
    if (!check) return
    const presented = bearerOf(request.headers.authorization)
    const match = check(presented)
    if (match) {
      grants.set(request, match)
      return
    }
    const route = `${request.method} ${request.routeOptions.url ?? 'this route'}`
    if (presented !== undefined && options.known?.(presented)) {
      return reply.code(403).send({
        error: {
          code: 'STREAMLANE_ENDPOINT_FORBIDDEN',
          message: `${route}: the bearer token is valid on this endpoint but not for this route`
        }
      })
    }
    const reason = presented === undefined ? 'token-missing' : 'token-wrong'
    options.onRefused?.(reason, request)
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({
        error: {
          code: 'STREAMLANE_ENDPOINT_UNAUTHORIZED',
          message:
            reason === 'token-missing'
              ? `${route}: an Authorization: Bearer token is required`
              : `${route}: the bearer token is not valid here`
        }
      })
  })
}
