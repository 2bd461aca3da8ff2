// Child-process entry point: the "empty route" ceiling. A minimal fastify 5
// server, logging off, `GET /` answering `{}`. HOST/PORT from the environment.
import Fastify from 'fastify';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? '0');

const app = Fastify({ logger: false });
app.get('/', async () => ({}));

await app.listen({ host, port });

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    void app.close().then(() => process.exit(0));
  });
}
