/** `streamlane/query`: the typed client of the query endpoint, without the runtime. */
export {
  type KeyFormat,
  type KeyOptions,
  QueryAnswerError,
  QueryClient,
  type QueryClientOptions,
  type RangeOptions
} from './query-client.ts'
