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
}

export type AdminFactory = (options: { brokers: string[]; clientId?: string }) => SignalAdmin
