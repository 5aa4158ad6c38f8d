import { StreamlaneError } from '../errors.ts'

/**
 * Why a query cannot be answered. `retriable` errors come from a moving group (a rebalance, a task restoring or moved,
 * an owner that died and whose tasks are about to move): asking again a moment later gets an answer. The endpoint
 * answers them with 503 (502 for an owner that did not answer, 429 when busy), `retriable: true` in the body and a Retry-After.
 */
export class QueryError extends StreamlaneError {
  readonly retriable: boolean
  /** The HTTP status the query endpoint answers with. */
  readonly status: number

  constructor(
    code:
      | 'STREAMLANE_QUERY_UNAVAILABLE'
      | 'STREAMLANE_QUERY_NOT_LOCAL'
      | 'STREAMLANE_QUERY_UNKNOWN_STORE'
      | 'STREAMLANE_QUERY_STORE_KIND'
      | 'STREAMLANE_QUERY_REQUEST_INVALID'
      | 'STREAMLANE_QUERY_FORWARD_FAILED'
      | 'STREAMLANE_QUERY_BUSY',
    message: string,
    options?: { cause?: unknown }
  ) {
    super(code, message, options)
    this.retriable = RETRIABLE.has(code)
    this.status = STATUS[code]
  }
}

const RETRIABLE = new Set<string>([
  'STREAMLANE_QUERY_UNAVAILABLE',
  'STREAMLANE_QUERY_NOT_LOCAL',
  'STREAMLANE_QUERY_FORWARD_FAILED',
  'STREAMLANE_QUERY_BUSY'
])

const STATUS = {
  STREAMLANE_QUERY_UNAVAILABLE: 503,
  STREAMLANE_QUERY_NOT_LOCAL: 503,
  STREAMLANE_QUERY_UNKNOWN_STORE: 404,
  STREAMLANE_QUERY_STORE_KIND: 400,
  STREAMLANE_QUERY_REQUEST_INVALID: 400,
  STREAMLANE_QUERY_FORWARD_FAILED: 502,
  STREAMLANE_QUERY_BUSY: 429
} as const
