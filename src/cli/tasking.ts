/**
 * Operator commands for tasking: load two-line element sets into the store (the satellites the tasking
 * API computes opportunities and bookings from) and list what is stored. They act on the store directly,
 * like the other operator commands; servers read the sets on the next request.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { isDemoSet, loadTleText, SENSORS, type Sensor } from '../tasking/tle-store.js';
import { config, dataDirOption, operatorAudit, table, UsageError, withStorage } from './operator.js';

const MS_PER_DAY = 86_400_000;

/** Registers `skyport tasking tle load <file> [--sensor optical|thermal]` and `skyport tasking tle list [--json]`. */
export function taskingCommands(program: Command): void {
  const tasking = program.command('tasking').description('tasking API: satellites (element sets)');
  const tle = tasking.command('tle').description('two-line element sets of the satellites that serve tasking products');

  tle
    .command('load <file>')
    .description('load a TLE file (2- or 3-line sets); every valid set is stored for the sensor, rejected sets are listed with the reason')
    .addOption(new Option('--sensor <sensor>', 'which products the satellites serve').choices(SENSORS).default('optical'))
    .option(...dataDirOption)
    .addHelpText('after', '\nExample:\n  skyport tasking tle load ./resource.txt --sensor optical')
    .action(async (file: string, opts: { sensor: Sensor; dataDir?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      await withStorage(config(opts), async (s) => {
        const r = await loadTleText(s, text, opts.sensor);
        console.log(`Loaded ${r.loaded} element set${r.loaded === 1 ? '' : 's'} (sensor ${opts.sensor}) from ${file}.`);
        if (r.errors.length) console.log(`Rejected ${r.errors.length}:`);
        for (const e of r.errors) console.log(`  line ${e.line}${e.name ? ` (${e.name})` : ''}: ${e.reason}`);
        if (r.loaded > 0)
          await operatorAudit(s, null, 'tasking.tle.load', null, { sensor: opts.sensor, loaded: r.loaded, rejected: r.errors.length });
        if (r.loaded === 0) throw new UsageError(`no element sets loaded from ${file}`);
      });
    });

  tle
    .command('list')
    .description('list the stored element sets with their epoch and age')
    .option('--json', 'print JSON')
    .option(...dataDirOption)
    .action(async (opts: { json?: boolean; dataDir?: string }) => {
      await withStorage(config(opts), async (s) => {
        const now = Date.now();
        const rows = (await s.listTleSets())
          .sort((a, b) => a.noradId - b.noradId)
          .map((r) => ({
            norad_id: r.noradId,
            name: r.name,
            sensor: r.sensor,
            epoch: new Date(r.epoch).toISOString(),
            age_days: Number(((now - r.epoch) / MS_PER_DAY).toFixed(2)),
            demo: isDemoSet(r),
            loaded_at: new Date(r.loadedAt).toISOString(),
          }));
        if (opts.json) return console.log(JSON.stringify(rows, null, 2));
        console.log(
          rows.length ? table(rows, ['norad_id', 'name', 'sensor', 'epoch', 'age_days', 'demo', 'loaded_at']) : 'No element sets stored.',
        );
      });
    });
}
