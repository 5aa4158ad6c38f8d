import { StreamlaneError } from '../errors.ts'

/**
 * Why a query cannot be answered. `retriable` errors come from a moving group (a rebalance, a task restoring or moved):
 * asking again a moment later gets an answer; the endpoint maps them to 503.
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
      | 'STREAMLANE_QUERY_FORWARD_FAILED',
    message: string,
    options?: { cause?: unknown }
  ) {
    super(code, message, options)
    this.retriable = code === 'STREAMLANE_QUERY_UNAVAILABLE' || code === 'STREAMLANE_QUERY_NOT_LOCAL'
    this.status = STATUS[code]
  }
}

const STATUS = {
  STREAMLANE_QUERY_UNAVAILABLE: 503,
  STREAMLANE_QUERY_NOT_LOCAL: 503,
  STREAMLANE_QUERY_UNKNOWN_STORE: 404,
  STREAMLANE_QUERY_STORE_KIND: 400,
  STREAMLANE_QUERY_REQUEST_INVALID: 400,
  STREAMLANE_QUERY_FORWARD_FAILED: 502
} as const
