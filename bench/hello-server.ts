/**
 * The HTTP floor for the ingest benchmark: a hello-world Fastify server that reads a JSON body and
 * answers 201 `{}`. It prints its URL like `actiontrail serve` does.
 */
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 })
app.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) =>
  done(null, body),
)
app.post('/*', async (_request, reply) => reply.code(201).send({}))
app.put('/*', async (_request, reply) => reply.code(201).send({}))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
console.log(
  `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
)
