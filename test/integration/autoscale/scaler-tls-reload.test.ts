/**
 * The scaler as a process (`streamlane scaler`) serving gRPC with mutual TLS and HTTPS from mounted files: its
 * certificate is renewed by another CA while it runs. New connections to both ports get the new certificate without a
 * restart (a client that trusts only the new CA gets in); connections opened before keep theirs (a client that trusts
 * only the old CA, on its open connection, is still answered). A half-written pair (the certificate without its key)
 * is logged and changes nothing. No broker is needed: GetMetricSpec and /healthz answer without one.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, get } from 'node:https'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import { externalScalerClient } from '../../../src/autoscale/keda/proto.ts'
import { makeTestCerts, type TestCerts } from '../../support/certs.ts'
import { waitFor } from '../../support/wait.ts'

const cli = fileURLToPath(new URL('../../../bin/streamlane.js', import.meta.url))
const REF = { name: 'so', namespace: 'ns', scalerMetadata: { consumerGroup: 'orders', enableTLS: 'true' } }

/** The fingerprint of the certificate a new TLS connection to the port is given (with KEDA's client certificate). */
function servedFingerprint(port: number, client: TestCerts, alpn: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        rejectUnauthorized: false,
        ALPNProtocols: [alpn],
        cert: client.pem(client.clientCertFile),
        key: client.pem(client.clientKeyFile)
      },
      () => {
        resolve(socket.getPeerCertificate().fingerprint256)
        socket.destroy()
      }
    )
    socket.on('error', reject)
  })
}

function metricSpec(client: grpc.Client): Promise<{ metricSpecs: { metricName: string }[] }> {
  return new Promise((resolve, reject) => {
    ;(
      client as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: unknown) => void) => void>
    ).GetMetricSpec?.call(client, REF, (error, value) => (error ? reject(error) : resolve(value as never)))
  })
}

/** GET /healthz over HTTPS through `agent`; the socket it went over, to tell a kept connection from a new one. */
function healthz(port: number, agent: Agent, ca: Buffer): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    get({ host: 'localhost', port, path: '/healthz', agent, ca }, (response) => {
      response.resume()
      response.on('end', () => resolve({ status: response.statusCode ?? 0, socket: response.socket }))
    }).once('error', reject)
  })
}

test('the scaler serves a renewed certificate on gRPC and HTTPS without a restart; open connections keep theirs', {
  timeout: 60_000
}, async () => {
  const old = makeTestCerts()
  const renewed = makeTestCerts() // another CA and a server certificate it signed
  const dir = mkdtempSync(join(tmpdir(), 'streamlane-scaler-tls-'))
  // The files a mounted kubernetes.io/tls Secret would give; KEDA's client certificates are signed by the old CA.
  const certFile = join(dir, 'tls.crt')
  const keyFile = join(dir, 'tls.key')
  copyFileSync(old.serverCertFile, certFile)
  copyFileSync(old.serverKeyFile, keyFile)
  const fingerprint = (certs: TestCerts) => new X509Certificate(certs.pem(certs.serverCertFile)).fingerprint256
  let output = ''
  const scaler: ChildProcess = spawn(
    process.execPath,
    [cli, 'scaler', '--grpc-port', '0', '--http-port', '0', '--brokers', '127.0.0.1:1'],
    {
      env: {
        ...process.env,
        STREAMLANE_SCALER_TLS_CERT_FILE: certFile,
        STREAMLANE_SCALER_TLS_KEY_FILE: keyFile,
        STREAMLANE_SCALER_GRPC_CLIENT_CA_FILE: old.caFile,
        STREAMLANE_LOG_LEVEL: 'info'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  const collect = (chunk: Buffer) => {
    output += chunk.toString()
  }
  scaler.stdout?.on('data', collect)
  scaler.stderr?.on('data', collect)
  const clients: grpc.Client[] = []
  /** A KEDA-like client that trusts only `ca`'s CA, with the client certificate the scaler's client CA signed. */
  const kedaTrusting = (ca: TestCerts, port: number) => {
    const client = externalScalerClient(
      `localhost:${port}`,
      grpc.credentials.createSsl(ca.pem(ca.caFile), old.pem(old.clientKeyFile), old.pem(old.clientCertFile))
    )
    clients.push(client)
    return client
  }
  const oldAgent = new Agent({ keepAlive: true, maxSockets: 1 })
  const newAgent = new Agent({ keepAlive: false })
  try {
    const listening = await waitFor('the scaler to listen', () => {
      const line = output.split('\n').find((l) => l.includes('"scaler listening"'))
      return line ? (JSON.parse(line) as { grpcPort: number; httpPort: number; tls: boolean }) : undefined
    })
    assert.equal(listening.tls, true)
    const { grpcPort, httpPort } = listening
    assert.equal(await servedFingerprint(grpcPort, old, 'h2'), fingerprint(old))
    assert.equal(await servedFingerprint(httpPort, old, 'http/1.1'), fingerprint(old))

    // Connections opened before the renewal, by clients that trust only the old CA.
    const before = kedaTrusting(old, grpcPort)
    assert.equal((await metricSpec(before)).metricSpecs[0]?.metricName, 'streamlane-lag-orders')
    const firstHttp = await healthz(httpPort, oldAgent, old.pem(old.caFile))
    assert.equal(firstHttp.status, 200)
    await assert.rejects(metricSpec(kedaTrusting(renewed, grpcPort)), 'the new CA does not sign the old certificate')

    // A half-written renewal (the certificate first): its key does not match, the old pair is kept.
    copyFileSync(renewed.serverCertFile, certFile)
    await waitFor('the mismatched pair logged', () => output.includes('scaler TLS files changed but do not load'))
    assert.equal(await servedFingerprint(grpcPort, old, 'h2'), fingerprint(old))
    assert.doesNotMatch(output, /PRIVATE KEY/, 'no key material in the log')

    // Then the key: new connections to both ports get the renewed certificate.
    copyFileSync(renewed.serverKeyFile, keyFile)
    await waitFor(
      'the renewed certificate served on gRPC',
      async () => (await servedFingerprint(grpcPort, old, 'h2')) === fingerprint(renewed)
    )
    assert.equal(await servedFingerprint(httpPort, old, 'http/1.1'), fingerprint(renewed))
    assert.match(output, /scaler TLS files changed: new connections get the new certificate/)
    const after = kedaTrusting(renewed, grpcPort)
    assert.equal((await metricSpec(after)).metricSpecs[0]?.metricName, 'streamlane-lag-orders')
    const newHttp = await healthz(httpPort, newAgent, renewed.pem(renewed.caFile))
    assert.equal(newHttp.status, 200)
    await assert.rejects(metricSpec(kedaTrusting(old, grpcPort)), 'a new connection is not given the old certificate')

    // The connections opened before are still answered: over them the old certificate stays (these clients would
    // refuse the new one, as the fresh old-CA client above did).
    assert.equal((await metricSpec(before)).metricSpecs[0]?.metricName, 'streamlane-lag-orders')
    const secondHttp = await healthz(httpPort, oldAgent, old.pem(old.caFile))
    assert.equal(secondHttp.status, 200)
    assert.equal(secondHttp.socket, firstHttp.socket, 'the same keep-alive connection')
    assert.equal(scaler.exitCode, null, 'no restart')
  } finally {
    for (const client of clients) client.close()
    oldAgent.destroy()
    newAgent.destroy()
    if (scaler.exitCode === null) {
      scaler.kill('SIGTERM')
      await once(scaler, 'exit')
    }
    rmSync(dir, { recursive: true, force: true })
    old.remove()
    renewed.remove()
  }
})
