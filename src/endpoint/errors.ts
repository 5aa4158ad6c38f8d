import { StreamlaneError } from '../errors.ts'

/** A secret, certificate or key file of an endpoint cannot be read or is empty; `setting` names the option. */
export class EndpointSecretError extends StreamlaneError {
  readonly setting: string

  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super('STREAMLANE_ENDPOINT_SECRET_INVALID', `${setting}: ${message}`, options)
    this.setting = setting
  }
}
