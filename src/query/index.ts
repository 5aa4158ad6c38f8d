/**
 * Interactive queries: which instance holds a key (from the assignment's host maps), read-only views of the stores
 * this instance holds, the query endpoint on the app's HTTP server, and its client. The runtime fills `QuerySource`;
 * query/ never imports the runtime.
 */
export { QueryError } from './errors.ts'
export {
  type KeyQueryMetadata,
  metadataForAllStreamsClients,
  queryMetadataForKey,
  type StreamsClientMetadata
} from './key-metadata.ts'
export { type LocalStoreOptions, localKeyValueStore, localSessionStore, localWindowStore } from './local-stores.ts'
export { KEY_FORMATS, type KeyFormat } from './query-json.ts'
export { DEFAULT_MAX_CONCURRENT, DEFAULT_PAGE, MAX_PAGE } from './query-limits.ts'
export {
  FORWARDED_HEADER,
  type QueryAnswerEvent,
  type QueryRoutesOptions,
  registerQueryRoutes
} from './query-routes.ts'
export type { GroupHostMap, HostPartitions, QuerySource, StorePartitioning } from './query-source.ts'
export { allLocalStorePartitionLags, type StorePartitionLag } from './store-lags.ts'
