/**
 * Window and session queries on standby copies (stale reads) say what they are: a copy answers a window or session
 * query only once it has caught up with its changelog since it opened, with `standby: true` and its lag; before that
 * (a copy rebuilt from scratch may miss whole windows, and an answer would not show it) the query goes to the active
 * task, or is a retriable 503. Two page-views instances with `numStandbyReplicas: 1`: the first counts every view;
 * the second joins and builds its copies from the changelogs while it is asked, with `stale=true` and without any
 * retry, for users' windows and sessions over HTTP and in-process. Every answer must be every window (session) of the
 * user with its count, or a retriable error; never fewer.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import { createProducer } from '../../../src/kafka/producer.ts'
import { QueryError } from '../../../src/query/errors.ts'
import { Serdes } from '../../../src/serde/index.ts'
import { testBrokers } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { freshTopics, runningWith, sessionsOf, startQueryGroup } from './query-group.ts'

// Every window stays in the store while the test runs (size + grace behind stream time), and a user's views of one
// minute make a session or two.
process.env.PAGE_VIEWS_GRACE_MS ??= String(10 * 60_000)
process.env.PAGE_VIEWS_SESSION_GAP_MS ??= '20000'
const { pageViews, SESSION_GAP_MS, topics, WINDOW_MS } = await import('../../../examples/page-views/app.ts')

const PARTITIONS = 2
/** Enough windows that building a copy from the changelogs takes a while: queries land during it. */
const USERS = Array.from({ length: 1500 }, (_, i) => `u${i}`)
const MINUTES = 4
const TOKEN = 'standby-windows-token'
const T0 = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 30 * WINDOW_MS
const TO = T0 + (MINUTES - 1) * WINDOW_MS

type Window = { start: number; value: number }
type Session = { start: number; end: number; value: number }
type Kind = 'standby' | 'active' | 'retriable' | 'wrong'

test('a standby copy answers window and session queries only once it has caught up; never fewer windows', {
  timeout: 240_000
}, async () => {
  const { appId, topics: names } = await freshTopics('sbw', ['views', 'perMinute', 'sessions'], PARTITIONS)
  Object.assign(topics, names)
  const group = await startQueryGroup({
    instances: 2,
    start: 1,
    topology: pageViews,
    config: { applicationId: appId, metricsToken: TOKEN, numStandbyReplicas: 1 }
  })
  const [first, second] = group.apps as [(typeof group.apps)[0], (typeof group.apps)[0]]
  const secondHost = group.hosts[1]!
  try {
    // Each user views a page 1 to 3 times in each minute: every user has a window in every minute.
    const views: { topic: string; key: Buffer; value: Buffer; timestamp: number }[] = []
    const windows = new Map<string, Window[]>()
    const sessions = new Map<string, Session[]>()
    for (const user of USERS) {
      const times: number[] = []
      for (let minute = 0; minute < MINUTES; minute++) {
        const count = 1 + Math.floor(Math.random() * 3)
        for (let v = 0; v < count; v++) times.push(T0 + minute * WINDOW_MS + Math.floor(Math.random() * WINDOW_MS))
        windows.set(user, [...(windows.get(user) ?? []), { start: T0 + minute * WINDOW_MS, value: count }])
      }
      sessions.set(user, sessionsOf(times, SESSION_GAP_MS))
      for (const [i, timestamp] of times.entries()) {
        views.push({
          topic: topics.views,
          key: Buffer.from(`${user}-${i}`),
          value: Buffer.from(JSON.stringify({ user, page: '/home' })),
          timestamp
        })
      }
    }
    // In time order: a task's stream time never runs ahead of a view still to come (no window closes early).
    views.sort((a, b) => a.timestamp - b.timestamp)
    const producer = createProducer({ brokers: testBrokers() })
    await producer.send(views)
    await producer.close()
    // Each view is processed twice (read, then counted from the repartition topic); committed = in the changelogs.
    await waitFor('every view counted and committed', () => first.progress().committed >= 2 * views.length, {
      timeoutMs: 120_000
    })

    // The second instance joins: its standby copies (and any task that moves to it) are built from the changelogs
    // while it is asked.
    const joined = runningWith(group.apps)
    let stable = false
    void joined.then(() => {
      stable = true
    })
    const tally = {
      windows: new Map<Kind, number>(),
      sessions: new Map<Kind, number>(),
      inProcess: new Map<string, number>()
    }
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)
    const ask = async (path: string) => {
      const response = await fetch(`http://${secondHost}${path}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(10_000)
      }).catch(() => undefined) // the endpoint is not up yet
      if (!response) return undefined
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    /** Every answer that was neither all the windows (sessions) nor a retriable error: must stay empty. */
    const wrong: string[] = []
    /** Checks one answer; its kind. */
    const check = (
      what: string,
      answer: { status: number; body: Record<string, unknown> },
      list: string,
      want: unknown[]
    ): Kind | 'wrong' => {
      const shown = JSON.stringify(answer.body).slice(0, 300)
      if (answer.status === 200) {
        const got = [...(answer.body[list] as Window[])].sort((a, b) => a.start - b.start)
        if (!isDeepStrictEqual(got, want)) wrong.push(`${what}: ${got.length} of ${want.length} (${shown})`)
        else if (answer.body.standby !== true) return 'active'
        else if (typeof answer.body.lag !== 'number') wrong.push(`${what}: a standby answer without its lag (${shown})`)
        else return 'standby'
        return 'wrong'
      }
      const error = answer.body.error as { retriable?: boolean } | undefined
      if ((answer.status >= 500 || answer.status === 429) && error?.retriable === true) return 'retriable'
      wrong.push(`${what}: ${answer.status} (${shown})`)
      return 'wrong'
    }
    /** The second instance's in-process view with enableStaleStores: all windows, or a retriable error. */
    const inProcess = (user: string) => {
      try {
        const view = second.windowStore<string, bigint>('views-per-minute', {
          keySerde: Serdes.string(),
          enableStaleStores: true
        })
        const got = [...view.fetch(user, T0, TO)].map(({ key, value }) => ({ start: key, value: Number(value) }))
        assert.deepEqual(got, windows.get(user), `${user}'s windows in-process`)
        bump(tally.inProcess, 'all windows')
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error
        assert.ok(error instanceof QueryError && error.retriable, `in-process: ${String(error)}`)
        bump(tally.inProcess, error.code)
      }
    }
    // While the second instance joins and builds its copies: a sample of users at a time, each answer checked.
    for (let round = 0; !stable; round++) {
      for (const user of USERS.filter((_, i) => i % 25 === round % 25)) {
        const w = await ask(`/stores/views-per-minute/windows/${user}?stale=true&from=${T0}&to=${TO}`)
        if (w) bump(tally.windows, check(`${user}'s windows`, w, 'windows', windows.get(user)!))
        const s = await ask(`/stores/view-sessions/sessions/${user}?stale=true`)
        if (s) bump(tally.sessions, check(`${user}'s sessions`, s, 'sessions', sessions.get(user)!))
        if (second.state === 'RUNNING') inProcess(user)
      }
    }
    await joined
    // Once the group is stable, the second instance's caught-up copies answer for the keys the first one owns. (A
    // warm-up may still move a task later: the owner is looked up again at each try.)
    for (const user of USERS.slice(0, 40)) {
      await waitFor(`${user}'s windows and sessions from the second instance's copy`, async () => {
        const owner = second.queryMetadataForKey('views-per-minute', user, Serdes.string()).activeHost
        const want = owner === secondHost ? 'active' : 'standby'
        const w = await ask(`/stores/views-per-minute/windows/${user}?stale=true&from=${T0}&to=${TO}`)
        const s = await ask(`/stores/view-sessions/sessions/${user}?stale=true`)
        const kinds = [
          w && check(`${user}'s windows`, w, 'windows', windows.get(user)!),
          s && check(`${user}'s sessions`, s, 'sessions', sessions.get(user)!)
        ]
        if (w && kinds[0]) bump(tally.windows, kinds[0])
        if (s && kinds[1]) bump(tally.sessions, kinds[1])
        return kinds.every((kind) => kind === want)
      })
      inProcess(user)
    }
    console.log('answers by kind', tally)
    assert.deepEqual(wrong, [], 'answers with fewer windows or sessions, or errors that are not retriable')
    assert.ok((tally.windows.get('standby') ?? 0) > 0, 'standby copies answered window queries')
    assert.ok((tally.sessions.get('standby') ?? 0) > 0, 'standby copies answered session queries')
  } finally {
    await group.close()
  }
})
