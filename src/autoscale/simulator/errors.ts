import { StreamlaneError } from '../../errors.ts'

/** A user load trace (CSV) cannot be read; the message names the line and what is wrong with it. */
export class TraceFormatError extends StreamlaneError {
  readonly line: number

  constructor(source: string, line: number, message: string) {
    super('STREAMLANE_SIMULATOR_TRACE_INVALID', `invalid load trace ${source} line ${line}: ${message}`)
    this.line = line
  }
}

/** The simulator was asked for something it cannot model (an unknown trace name, a scenario out of range). */
export class SimulationInputError extends StreamlaneError {
  readonly field: string

  constructor(field: string, message: string) {
    super('STREAMLANE_SIMULATOR_INPUT_INVALID', `invalid simulator input ${field}: ${message}`)
    this.field = field
  }
}
