import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { QueryAnswerError, QueryClient } from '../../../src/query/client/index.ts'

/** An endpoint that gives the scripted answers in turn, then 200. */
async function scripted(answers: { status: number; error?: Record<string, unknown> }[]) {
  let asked = 0
  const server = createServer((_request, response) => {
    const answer = answers[asked++]
    response.setHeader('content-type', 'application/json')
    if (!answer) {
      response.end(JSON.stringify({ value: 42 }))
      return
    }
    response.statusCode = answer.status
    response.end(JSON.stringify({ error: answer.error }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, asked: () => asked, close: () => new Promise((resolve) => server.close(resolve)) }
}

test('retriable answers (503, 429, a 502 marked retriable) are retried; the value comes after them', async () => {
  const endpoint = await scripted([
    { status: 503, error: { code: 'STREAMLANE_QUERY_UNAVAILABLE', message: 'moving', retriable: true } },
    { status: 429, error: { code: 'STREAMLANE_QUERY_BUSY', message: 'busy', retriable: true } },
    { status: 502, error: { code: 'STREAMLANE_QUERY_FORWARD_FAILED', message: 'owner gone', retriable: true } }
  ])
  try {
    const seen: string[] = []
    const client = new QueryClient({ url: endpoint.url, onRetry: (error) => seen.push(`${error.status}`) })
    assert.equal(await client.get('counts', 'k'), 42)
    assert.deepEqual(seen, ['503', '429', '502'])
  } finally {
    await endpoint.close()
  }
})

test('retries are bounded: the last retriable answer is thrown with its status and code', async () => {
  const moving = { status: 503, error: { code: 'STREAMLANE_QUERY_UNAVAILABLE', message: 'moving', retriable: true } }
  const endpoint = await scripted([moving, moving, moving])
  try {
    const client = new QueryClient({ url: endpoint.url, retries: 2 })
    await assert.rejects(
      client.get('counts', 'k'),
      (e) =>
        e instanceof QueryAnswerError && e.status === 503 && e.code === 'STREAMLANE_QUERY_UNAVAILABLE' && e.retriable
    )
    assert.equal(endpoint.asked(), 3)
  } finally {
    await endpoint.close()
  }
})

test('an answer that is not retriable is thrown at once', async () => {
  const endpoint = await scripted([
    { status: 400, error: { code: 'STREAMLANE_QUERY_REQUEST_INVALID', message: 'bad' } }
  ])
  try {
    const client = new QueryClient({ url: endpoint.url })
    await assert.rejects(
      client.get('counts', 'k'),
      (e) => e instanceof QueryAnswerError && e.status === 400 && !e.retriable
    )
    assert.equal(endpoint.asked(), 1)
  } finally {
    await endpoint.close()
  }
})

test('sessions() follows `next` a page at a time: each page asks from the end of the first session left out', async () => {
  const all = [
    { start: 0, end: 10, value: 1 },
    { start: 20, end: 30, value: 2 },
    { start: 40, end: 50, value: 3 }
  ]
  const asked: string[] = []
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    asked.push(url.search)
    const from = Number(url.searchParams.get('from') ?? 0)
    const limit = Number(url.searchParams.get('limit') ?? 1000)
    const matching = all.filter((s) => s.end >= from)
    const page = matching.slice(0, limit)
    const next = matching.length > limit ? matching[limit]!.end : null
    response.setHeader('content-type', 'application/json')
    response.end(JSON.stringify({ key: 'alice', sessions: page, next, truncated: next !== null }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const client = new QueryClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
    assert.deepEqual(await client.sessions('view-sessions', 'alice', { pageSize: 2 }), all)
    assert.deepEqual(asked, ['?limit=2', '?from=50&limit=2'])
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
