/**
 * The query endpoint behind the app endpoint's protection (docs/security.md), on a real broker: two word-count
 * instances as OS processes with TLS (a test CA the peers trust through `queryPeerCaFile`), a query token and a
 * metrics token. A query with the query token is answered over HTTPS, forwarded to the owner over HTTPS with the
 * token; one without a token (or with a wrong one) is refused with 401 before any routing, and never forwarded: the
 * owner's count of queries from peers does not move; the metrics token on a query is 403, and the query token on
 * /metrics. Plain HTTP gets no answer. Then the owner's certificate is renewed by a new CA while both run: the peers
 * trust the new CA from their changed `queryPeerCaFile`, the owner serves the new certificate without a restart, and
 * queries are still forwarded to it.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
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
const METRICS_TOKEN = 'tls-metrics-token'
const module = fileURLToPath(new URL('../../../examples/word-count/app.ts', import.meta.url))

test('queries over TLS with the token are answered and forwarded; without it 401 and never forwarded', async () => {
  const certs = makeTestCerts()
  const renewed = makeTestCerts() // another CA, and a server certificate it signed
  const ca = [certs.pem(certs.caFile), renewed.pem(renewed.caFile)]
  const appId = uniqueName('tlsq')
  const lines = uniqueName('tlsq-lines')
  const counts = uniqueName('tlsq-counts')
  await createTopics([
    { name: lines, partitions: PARTITIONS },
    { name: counts, partitions: PARTITIONS }
  ])
  const hosts = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
  const dirs = hosts.map(() => mkdtempSync(join(tmpdir(), 'streamlane-tlsq-')))
  // Each instance its own certificate files (as its own mounted Secret); one CA file for both, the peers' CA.
  const certFile = (i: number) => join(dirs[i]!, 'tls.crt')
  const keyFile = (i: number) => join(dirs[i]!, 'tls.key')
  const peerCaFile = join(certs.dir, 'peers-ca.crt')
  copyFileSync(certs.caFile, peerCaFile)
  for (const i of [0, 1]) {
    copyFileSync(certs.serverCertFile, certFile(i))
    copyFileSync(certs.serverKeyFile, keyFile(i))
  }
  const env = (i: number) => ({
    STREAMLANE_APPLICATION_ID: appId,
    STREAMLANE_STATE_DIR: dirs[i]!,
    LINES_TOPIC: lines,
    WORD_COUNTS_TOPIC: counts,
    STREAMLANE_APPLICATION_SERVER: hosts[i]!,
    STREAMLANE_METRICS_TOKEN: METRICS_TOKEN,
    STREAMLANE_QUERY_TOKEN: TOKEN,
    STREAMLANE_METRICS_TLS_CERT_FILE: certFile(i),
    STREAMLANE_METRICS_TLS_KEY_FILE: keyFile(i),
    // A peer forwards over HTTPS and must trust the others' certificates.
    STREAMLANE_QUERY_PEER_CA_FILE: peerCaFile,
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
    const { text } = await get(host, '/metrics', METRICS_TOKEN)
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
    // The metrics token is valid on the endpoint but does not read data: 403; nor does the query token read metrics.
    const scraper = await get(hosts[0]!, `/stores/counts/keys/${owned}`, METRICS_TOKEN)
    assert.equal(scraper.status, 403)
    assert.equal((scraper.body.error as { code: string }).code, 'STREAMLANE_ENDPOINT_FORBIDDEN')
    assert.equal((await get(hosts[0]!, '/metrics', TOKEN)).status, 403)
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
          STREAMLANE_METRICS_TOKEN: METRICS_TOKEN,
          STREAMLANE_QUERY_TOKEN: TOKEN, // the CLI sends the query token when the app has one
          NODE_EXTRA_CA_CERTS: certs.caFile
        }
      }
    )
    assert.equal(stdout.trim(), '1')

    // Renewal by a new CA, as a rotation goes: first both CAs in the peers' CA file (each instance reloads it) ...
    writeFileSync(peerCaFile, Buffer.concat([certs.pem(certs.caFile), renewed.pem(renewed.caFile)]))
    await waitFor(
      'both instances trust the new CA',
      () => instances.every((i) => i.log.includes('queryPeerCaFile changed')),
      { timeoutMs: 30_000 }
    )
    // ... then the owner's certificate and key, replaced in place: it serves the new one, without a restart.
    copyFileSync(renewed.serverCertFile, certFile(1))
    copyFileSync(renewed.serverKeyFile, keyFile(1))
    const renewedFingerprint = new X509Certificate(renewed.pem(renewed.serverCertFile)).fingerprint256
    await waitFor(
      'the owner serves the renewed certificate',
      async () => (await served(hosts[1]!)) === renewedFingerprint,
      {
        timeoutMs: 30_000
      }
    )
    // The first instance forwards to the owner over a new connection, verified against the new CA.
    const forwardedBeforeRenewal = await fromPeers(hosts[1]!)
    const afterRenewal = await get(hosts[0]!, `/stores/counts/keys/${owned}`, TOKEN)
    assert.equal(afterRenewal.status, 200, afterRenewal.text)
    assert.equal(afterRenewal.body.host, hosts[1])
    assert.equal(await fromPeers(hosts[1]!), forwardedBeforeRenewal + 1, 'forwarded to the renewed owner')
    assert.equal(instances[1]!.child.exitCode, null, 'the owner was not restarted')
  } catch (error) {
    for (const i of instances) console.log(`${i.name} log (end):\n${i.log.slice(-3000)}`)
    throw error
  } finally {
    await killAll(instances)
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    certs.remove()
    renewed.remove()
  }
})

/** The SHA-256 fingerprint of the certificate a new TLS connection to `host` is given. */
function served(host: string): Promise<string> {
  const [hostname, port] = host.split(':')
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}
