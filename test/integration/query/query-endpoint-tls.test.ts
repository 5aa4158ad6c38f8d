/**
 * The query endpoint behind the app endpoint's protection (docs/security.md), on a real broker: two word-count
 * instances as OS processes with TLS (a test CA the peers trust through NODE_EXTRA_CA_CERTS) and a bearer token. A
 * query with the token is answered over HTTPS, forwarded to the owner over HTTPS with the token; one without the
 * token (or with a wrong one) is refused with 401 before any routing, and never forwarded: the owner's count of
 * queries from peers does not move. Plain HTTP gets no answer.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createProducer } from '../../../src/kafka/producer.ts'
import { makeTestCerts } from '../../support/certs.ts'
import { testBrokers, uniqueName } from '../../support/kafka.ts'
import { waitFor } from '../../support/wait.ts'
import { AppInstance, killAll } from '../runtime/instances.ts'
import { createTopics, readTopic } from '../runtime/support.ts'
import { freePort } from './free-port.ts'

const PARTITIONS = 4
const WORDS = Array.from({ length: 16 }, (_, i) => `w${i}`)
const TOKEN = 'tls-query-token'
const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))

test('queries over TLS with the token are answered and forwarded; without it 401 and never forwarded', async () => {
  const certs = makeTestCerts()
  const ca = certs.pem(certs.caFile)
  const appId = uniqueName('tlsq')
  const lines = uniqueName('tlsq-lines')
  const counts = uniqueName('tlsq-counts')
  await createTopics([
    { name: lines, partitions: PARTITIONS },
    { name: counts, partitions: PARTITIONS }
  ])
  const hosts = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
  const dirs = hosts.map(() => mkdtempSync(join(tmpdir(), 'streamlane-tlsq-')))
  const env = (i: number) => ({
    STREAMLANE_APPLICATION_ID: appId,
    STREAMLANE_STATE_DIR: dirs[i]!,
    LINES_TOPIC: lines,
    WORD_COUNTS_TOPIC: counts,
    STREAMLANE_APPLICATION_SERVER: hosts[i]!,
    STREAMLANE_METRICS_TOKEN: TOKEN,
    STREAMLANE_METRICS_TLS_CERT_FILE: certs.serverCertFile,
    STREAMLANE_METRICS_TLS_KEY_FILE: certs.serverKeyFile,
    // A peer forwards over HTTPS and must trust the others' certificates.
    NODE_EXTRA_CA_CERTS: certs.caFile,
    STREAMLANE_COMMIT_INTERVAL_MS: '200'
  })
  const instances = hosts.map((_, i) => new AppInstance(`i${i + 1}`, module, env(i)))

  /** GET over HTTPS trusting the test CA; the body parsed as JSON when it is. */
  const get = (host: string, path: string, token?: string) =>
    new Promise<{ status: number; body: Record<string, unknown>; text: string }>((resolve, reject) => {
      const [hostname, port] = host.split(':')
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
      const req = request({ hostname, port: Number(port), path, ca, headers }, (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        response.on('end', () =>
          resolve({ status: response.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : {}, text })
        )
      })
      req.on('error', reject)
      req.end()
    })
  /** The owner's count of queries that came from peers (forwarded to it), from its /metrics. */
  const fromPeers = async (host: string) => {
    const { text } = await get(host, '/metrics', TOKEN)
    const line = text
      .split('\n')
      .find((l) => l.startsWith('streamlane_query_requests_total{route="key",via="peer",outcome="local"}'))
    return line ? Number(line.split(' ').at(-1)) : 0
  }

  try {
    await waitFor('2 instances running', () => instances.every((i) => i.runningAssignment()), { timeoutMs: 60_000 })
    await waitFor(
      'both see a 2-host map',
      async () => {
        const answers = await Promise.all(hosts.map((h) => get(h, '/query/metadata', TOKEN)))
        return answers.every((a) => a.status === 200 && (a.body.instances as unknown[]).length === 2)
      },
      { timeoutMs: 30_000 }
    )
    const producer = createProducer({ brokers: testBrokers() })
    await producer.send(WORDS.map((word, i) => ({ topic: lines, key: Buffer.from(`l${i}`), value: Buffer.from(word) })))
    await producer.close()
    await readTopic(counts, PARTITIONS, (records) => records.length >= WORDS.length)

    // A word that the second instance holds, asked of the first: forwarded over HTTPS with the token.
    let owned: string | undefined
    for (const word of WORDS) {
      const answer = await get(hosts[0]!, `/stores/counts/keys/${word}`, TOKEN)
      assert.equal(answer.status, 200, `${word}: ${answer.text}`)
      assert.equal(answer.body.value, 1)
      if (answer.body.host === hosts[1]) owned = word
    }
    assert.ok(owned, 'some word is held by the second instance')
    const forwardedBefore = await fromPeers(hosts[1]!)
    assert.ok(forwardedBefore > 0, 'the owner counted the forwarded queries')

    // Without the token, or with a wrong one: 401 from the first instance, and nothing reaches the owner.
    const missing = await get(hosts[0]!, `/stores/counts/keys/${owned}`)
    assert.equal(missing.status, 401)
    assert.equal((missing.body.error as { code: string }).code, 'STREAMLANE_ENDPOINT_UNAUTHORIZED')
    const wrong = await get(hosts[0]!, `/stores/counts/keys/${owned}`, 'not-the-token')
    assert.equal(wrong.status, 401)
    const range = await get(hosts[0]!, '/stores/counts/keys')
    assert.equal(range.status, 401)
    assert.equal(await fromPeers(hosts[1]!), forwardedBefore, 'no refused query was forwarded')

    // Plain HTTP on the TLS port is not answered.
    const plain = await fetch(`http://${hosts[0]}/stores/counts/keys/${owned}`, {
      headers: { authorization: `Bearer ${TOKEN}` }
    }).then(
      (response) => response.status,
      () => 'refused'
    )
    assert.notEqual(plain, 200)

    // The CLI over HTTPS (trusting the CA as a user would), its token from the app's configuration.
    const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'query', module, '--store', 'counts', '--key', owned!, '--url', `https://${hosts[0]}`],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: testBrokers().join(','),
          STREAMLANE_METRICS_TOKEN: TOKEN,
          NODE_EXTRA_CA_CERTS: certs.caFile
        }
      }
    )
    assert.equal(stdout.trim(), '1')
  } catch (error) {
    for (const i of instances) console.log(`${i.name} log (end):\n${i.log.slice(-3000)}`)
    throw error
  } finally {
    await killAll(instances)
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    certs.remove()
  }
})
