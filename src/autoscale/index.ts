/**
 * Autoscaling's entry for the command line: the KEDA external scaler (`streamlane scaler`) and the local scaler
 * (`streamlane autoscale`). The policy and the simulator have their own index.ts.
 */
export {
  type RunningScaler,
  SCALER_TLS_SETTINGS,
  type ScalerLimits,
  type ScalerOptions,
  startScaler
} from './keda/start.ts'
export {
  type LocalScaler,
  type LocalScalerDeps,
  type LocalScalerStatus,
  startLocalScaler
} from './local/local-scaler.ts'
