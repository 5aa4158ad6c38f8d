import { StreamlaneError } from '../../errors.ts'

/**
 * The local scaler cannot run its workers at all: the command does not exist or may not be executed. Retrying with
 * backoff would only fill the log, so the scaler stops with this error instead.
 */
export class WorkerCommandError extends StreamlaneError {
  readonly command: string

  constructor(command: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_LOCAL_WORKER_COMMAND', `cannot start worker command "${command}": ${message}`, options)
    this.command = command
  }
}
