import { ScalerNotAllowedError } from '../signals/errors.ts'

/**
 * What the operator lets callers of the scaler ask for. Trigger metadata and metrics-api queries are written by
 * whoever can create a ScaledObject or reach the HTTP port; without these bounds they could make the scaler connect to
 * any host and port (and tell open from closed ports by the error) or keep state for any group name.
 */
export interface ScalerAccess {
  /**
   * Consumer groups served (queries and reports); an entry ending in `*` is a prefix. Unset: queries for any group,
   * and reports only for groups some ScaledObject or query currently evaluates.
   */
  groups?: readonly string[] | undefined
  /** Brokers (`host:port`) a trigger's bootstrapServers may name, besides the scaler's default brokers. */
  allowedBrokers?: readonly string[] | undefined
  /** Lets bootstrapServers name any broker: only where every caller is trusted. */
  allowAnyBrokers?: boolean | undefined
}

/** Whether `groupId` is on the allow-list (true when there is none). */
export function groupAllowed(access: ScalerAccess, groupId: string): boolean {
  if (!access.groups) return true
  return access.groups.some((g) => (g.endsWith('*') ? groupId.startsWith(g.slice(0, -1)) : g === groupId))
}

/** Refuses a group off the allow-list; `field` names where it came from (`metadata.consumerGroup`, `report.groupId`). */
export function checkGroup(access: ScalerAccess, groupId: string, field: string): void {
  if (!groupAllowed(access, groupId)) {
    throw new ScalerNotAllowedError(
      field,
      `consumer group "${groupId}" is not one this scaler serves (the operator lists them with --groups)`
    )
  }
}

/**
 * Refuses bootstrapServers naming a broker that is neither a default broker nor on the allow-list. The message does
 * not list the allowed brokers: the caller may be anyone who can reach the port.
 */
export function checkBrokers(
  access: ScalerAccess,
  named: readonly string[],
  defaults: readonly string[],
  field: string
): void {
  if (access.allowAnyBrokers) return
  const allowed = new Set([...defaults, ...(access.allowedBrokers ?? [])].map(normalize))
  const refused = named.find((b) => !allowed.has(normalize(b)))
  if (refused !== undefined) {
    throw new ScalerNotAllowedError(
      field,
      `"${refused}" is not a broker this scaler may connect to; the operator allows clusters with --allowed-brokers ` +
        "(or leave bootstrapServers out to use the scaler's --brokers)"
    )
  }
}

function normalize(broker: string): string {
  return broker.trim().toLowerCase()
}
