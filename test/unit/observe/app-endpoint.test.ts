import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { StreamsBuilder } from '../../../src/index.ts'
import { StreamlaneApp } from '../../../src/runtime/streamlane-app.ts'

test('a metrics port that is taken fails start() before any broker is contacted, naming metricsPort', async () => {
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  const address = holder.address()
  const taken = typeof address === 'object' && address ? address.port : 0
  const builder = new StreamsBuilder()
  builder.stream('in').to('out')
  const app = new StreamlaneApp(builder.build(), {
    applicationId: 'port-app',
    // Nothing listens there: the endpoint comes first, so the error is about the port.
    bootstrapServers: ['127.0.0.1:1'],
    metricsPort: taken,
    metricsHost: '127.0.0.1'
  })
  try {
    await assert.rejects(
      app.start(),
      (error: { code?: string; message: string }) =>
        error.code === 'STREAMLANE_METRICS_PORT_UNAVAILABLE' && error.message.includes(`metricsPort ${taken}`)
    )
    assert.equal(app.state, 'ERROR')
    assert.equal(app.httpPort(), undefined)
  } finally {
    holder.close()
  }
})

test('app.metrics() is readable before start(): state CREATED, nothing processed', async () => {
  const builder = new StreamsBuilder()
  builder.stream('in').to('out')
  const app = new StreamlaneApp(builder.build(), { applicationId: 'idle-app', bootstrapServers: ['127.0.0.1:1'] })
  const text = await app.metrics().metrics()
  assert.match(text, /^streamlane_app_state\{state="CREATED"\} 1$/m)
  assert.match(text, /^streamlane_task_records_processed_total 0$/m)
})
