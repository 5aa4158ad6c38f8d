/**
 * The slice of src/kafka/admin.ts the signal collector uses. Declared structurally here so the collector can be
 * exercised against a fake in unit tests and stays independent of how the admin is built; the real `KafkaAdmin`
 * satisfies it.
 */
export interface SignalAdmin {
  describeTopics(
    names: string[]
  ): Promise<{ name: string; partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[] }[]>
  listOffsets(
    requests: { topic: string; partitions?: number[] }[],
    at: 'earliest' | 'latest' | { timestamp: number | bigint }
  ): Promise<Map<string, Map<number, bigint>>>
  describeGroups(ids: string[]): Promise<
    {
      groupId: string
      state: string
      protocolType: string
      protocol: string
      members: {
        memberId: string
        groupInstanceId?: string | null
        clientId: string
        host: string
        assignment: { topic: string; partitions: number[] }[]
        /** Streamlane's assignment userData (active / standby / warm-up tasks); present only while Stable. */
        assignmentUserData?: Uint8Array
        /** Streamlane's subscription userData (tasks the member ran when it joined). */
        subscriptionUserData?: Uint8Array
      }[]
    }[]
  >
  fetchGroupOffsets(groupId: string, topics?: string[]): Promise<{ topic: string; partition: number; offset: bigint }[]>
  close(): Promise<void>
  /** Share groups (share-snapshot.ts): ShareGroupDescribe. Absent from admins that cannot measure share groups. */
  describeShareGroup?(groupId: string): Promise<ShareGroupView>
  /** Share groups: DescribeShareGroupOffsets, records not yet acknowledged per share partition (-1: not known). */
  describeShareGroupBacklog?(
    groupId: string,
    topics?: { topic: string; partitions: number[] }[]
  ): Promise<{ topic: string; partition: number; lag: bigint }[]>
}

/** What the scaler reads of a share group's description (src/kafka's ShareGroupDescription satisfies it). */
export interface ShareGroupView {
  /** `Empty`, `Stable`, `Dead`, or `Unknown` when the coordinator does not know the group. */
  state: string
  members: {
    memberId: string
    clientId: string
    clientHost: string
    assignment: { topic: string; partitions: number[] }[]
  }[]
}

export type AdminFactory = (options: { brokers: string[]; clientId?: string }) => SignalAdmin
