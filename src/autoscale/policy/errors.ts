import { StreamlaneError } from '../../errors.ts'

/**
 * A scaling signal is impossible (negative lag, a fractional replica count, NaN rate). The policy refuses to decide on
 * it rather than guess: a guess of zero would let the HPA scale a busy app down. `field` is the signal's path, e.g.
 * `signals.partitions[3].lag`.
 */
export class ScalingSignalsError extends StreamlaneError {
  readonly field: string

  constructor(field: string, message: string) {
    super('STREAMLANE_AUTOSCALE_SIGNALS_INVALID', `invalid scaling signal ${field}: ${message}`)
    this.field = field
  }
}
