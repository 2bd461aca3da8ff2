// Child-process entry point of the `embedded` mode: a Skyport server built by `createSkyport` (the
// composition root `skyport serve` uses; configuration from the environment, tasking workers off) that
// also runs the benchmark's scheduler loop on its own event loop and store handle, as a default
// single-process deployment does. argv[2] is the LoopSpec (JSON); SIGUSR2 starts the loop. Logs go to
// stderr; stdout carries one JSON line per event, each with an `sb` member:
//   {"sb":"ready"}, {"sb":"tick", …TickRecord}, {"sb":"eld", t, p50, p99, max, mean} (event-loop delay
//   of the last second beyond the 10 ms sampling interval, ms), {"sb":"end", end, stats, cpuMs} or
//   {"sb":"error", message}.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.js';
import { createSkyport } from '../../src/main.js';
import type { OrderStatusCode } from '../../src/storage/tasking.js';
import { instrument } from './instrument.js';
import { runScheduler, type LoopSpec } from './loop.js';

/** Sampling interval of the event-loop delay histogram, ms. */
const ELD_RESOLUTION_MS = 10;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ sb: event.sb, ...event })}\n`);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as LoopSpec;
  const config = { ...loadConfig(process.env), taskingWorkers: false };
  const skyport = await createSkyport(config, { logStream: process.stderr });
  await skyport.app.listen({ host: config.host, port: config.port });

  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  // The histogram holds the time between samples: the sampling interval itself is not delay.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
  setInterval(() => {
    emit({ sb: 'eld', t: Date.now(), p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) });
    eld.reset();
  }, 1000).unref();

  let started = false;
  process.on('SIGUSR2', () => {
    if (started) return;
    started = true;
    const statusOf = new Map<string, OrderStatusCode>();
    const { storage, stats } = instrument(skyport.storage, statusOf);
    const cpu0 = process.cpuUsage();
    runScheduler(
      storage,
      spec,
      (t) => emit({ sb: 'tick', ...t }),
      () => false,
      skyport.app.log,
    ).then(
      (end) => {
        const cpu = process.cpuUsage(cpu0);
        emit({
          sb: 'end',
          end,
          stats: { ...stats, perSecond: [...stats.perSecond], statusPerSecond: [...stats.statusPerSecond] },
          cpuMs: (cpu.user + cpu.system) / 1000,
        });
      },
      (e: Error) => emit({ sb: 'error', message: e.stack ?? e.message }),
    );
  });
  process.on('SIGTERM', () => {
    void skyport.close().finally(() => process.exit(0));
  });
  emit({ sb: 'ready' });
}

main().catch((e: Error) => {
  emit({ sb: 'error', message: e.stack ?? e.message });
  process.exit(1);
});
