/** Topology's processors, stores and task graphs hold a task as a `TaskId`; its one definition is src/task-id.ts. */
export { TaskId } from '../task-id.ts'
