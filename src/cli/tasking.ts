/**
 * `skyport tasking …`: two kinds of commands in one group.
 *
 * Customer commands (HTTP only, through the SDK's TaskingClient, with a profile as the other customer
 * commands; exit codes 0 ok · 2 usage or a request the server refused as malformed/unknown/conflicting ·
 * 3 credentials refused or not permitted · 4 server unreachable):
 *   products · opportunities <product> · order <product> · orders · status <order> [--watch] · cancel <order>
 * `status` also exits 1 when the order ended without a delivery (failed, rejected, expired, cancelled).
 *
 * Remembering opportunities between commands: `opportunities` saves the create-order bodies of the
 * opportunities it printed to `opportunities.json` (0600) next to profiles.json, replacing the previous
 * search; `order --opportunity <id>` posts the saved body (with --priority / --max-cloud-cover applied). An
 * id is a pass (satellite, time, AOI digest), not something the server stores, so only the client can keep it.
 *
 * Operator commands (`tasking tle load|list`): load two-line element sets into the store (the satellites
 * the tasking API computes opportunities and bookings from) and list what is stored. They act on the
 * store directly, like the other operator commands; servers read the sets on the next request.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  createOrderLink,
  isFinalStatus,
  TaskingClient,
  type Geometry,
  type Opportunity,
  type Order,
  type OrderPayload,
  type OrderStatus,
} from '../../packages/sdk/src/index.js';
import { isDemoSet, loadTleText, SENSORS, type Sensor } from '../tasking/tle-store.js';
import { api, profile, profilesFile, provider, type Profile } from './customer.js';
import { config, dataDirOption, operatorAudit, table, UsageError, withStorage } from './operator.js';

const MS_PER_DAY = 86_400_000;

/**
 * Registers the `tasking` group: the customer commands (module comment) and the operator's
 * `tle load <file> [--sensor optical|thermal]` and `tle list [--json]`.
 */
export function taskingCommands(program: Command): void {
  const tasking = program
    .command('tasking')
    .description('satellite tasking: products, imaging opportunities and orders (with a profile); tle: element sets (operator)');
  customerTaskingCommands(tasking);
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

// ---------------------------------------------------------------------------------------------------
// Customer commands (HTTP through the SDK)
// ---------------------------------------------------------------------------------------------------

const PROFILE_OPTION = ['--profile <name>', 'profile name (see skyport login)', 'default'] as const;
const FORMAT_HELP = 'table, ndjson (one object a line) or geojson (one FeatureCollection); default: table on a terminal, ndjson when piped';
/** Seconds between polls of `status --watch` unless --interval says otherwise. */
const DEFAULT_WATCH_INTERVAL_S = 2;
/** Consecutive failed polls `status --watch` rides out (network blips in a long watch) before giving up. */
const WATCH_RETRIES = 5;

type Format = 'table' | 'ndjson' | 'geojson';

/** The tasking client of a profile; the API base is the token URL's origin (as the other customer commands). */
function taskingClient(p: Profile): TaskingClient {
  return new TaskingClient(provider(p), apiOrigin(p));
}

function apiOrigin(p: Profile): string {
  return new URL(p.token_url).origin;
}

function outputFormat(v: string | undefined): Format {
  const f = v ?? (process.stdout.isTTY ? 'table' : 'ndjson');
  if (f !== 'table' && f !== 'ndjson' && f !== 'geojson') throw new UsageError('--format must be table, ndjson or geojson');
  return f;
}

/** `cmd | head` closes the pipe early: that ends the output, it is not a failure. */
function quietEpipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(0) : undefined));
}

function positiveNumber(v: string | undefined, name: string, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new UsageError(`${name} must be a number greater than 0${max < Infinity ? ` and at most ${max}` : ''}`);
  return n;
}

function wholeNumber(v: string, name: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name} must be a whole number ≥ 1`);
  return Number(v);
}

/**
 * The AOI of `--aoi`: inline GeoJSON (text starting with `{`) or a file holding it; a Feature or a
 * FeatureCollection of one feature stands for its geometry. The server judges the geometry itself
 * (Point or Polygon, valid, within the product's area limit). Throws UsageError (exit 2) when the file
 * cannot be read, the text is not JSON, or it holds no geometry.
 */
export function readAoi(v: string): Geometry {
  let text = v;
  if (!v.trim().startsWith('{')) {
    try {
      text = readFileSync(v, 'utf8');
    } catch (e) {
      throw new UsageError(`--aoi: cannot read ${v}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let g: Record<string, unknown>;
  try {
    g = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageError(`--aoi: ${v.trim().startsWith('{') ? 'the text' : v} is not valid JSON (GeoJSON expected)`);
  }
  if (g?.type === 'FeatureCollection') {
    const fs = g.features as unknown[] | undefined;
    if (!Array.isArray(fs) || fs.length !== 1) throw new UsageError('--aoi: a FeatureCollection must hold exactly one feature');
    g = fs[0] as Record<string, unknown>;
  }
  if (g?.type === 'Feature') g = g.geometry as Record<string, unknown>;
  if (!g || typeof g.type !== 'string' || g.coordinates === undefined)
    throw new UsageError('--aoi: not a GeoJSON geometry (a Point or Polygon, e.g. {"type":"Point","coordinates":[4.85,45.76]})');
  return g as unknown as Geometry;
}

/** `--from` / `--to`: RFC 3339 date-times; a rough local check, the server applies the exact rules. */
function instant(v: string, name: string): string {
  if (!/^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.test(v) || Number.isNaN(Date.parse(v)))
    throw new UsageError(`${name} must be an RFC 3339 date-time with a time zone, e.g. 2026-06-01T00:00:00Z`);
  return v;
}

/** A time without milliseconds: 2026-06-01T10:31:05Z. */
function shortTime(iso: string | undefined): string {
  return (iso ?? '').replace(/\.\d+Z$/, 'Z');
}

function degrees(x: unknown): string {
  return typeof x === 'number' ? `${x.toFixed(1)}°` : '';
}

function price(o: Order): string {
  const p = o.properties.price;
  return p ? `${p.amount.toFixed(2)} ${p.currency}` : '';
}

// --- remembered opportunities ------------------------------------------------------------------------

/** What `opportunities` leaves for `order --opportunity`: the last search's create-order requests. */
interface SavedOpportunities {
  saved_at: string;
  /** The API the search ran on (a profile of another server cannot order these). */
  api: string;
  product: string;
  opportunities: Record<string, { href: string; body: Record<string, unknown>; datetime: string; platform?: string }>;
}

function savedFile(): string {
  return path.join(path.dirname(profilesFile()), 'opportunities.json');
}

/** Replaces the saved opportunities (0600, written to a temporary file and renamed: never half a file). */
function saveOpportunities(api: string, product: string, list: Opportunity[]): void {
  const saved: SavedOpportunities = { saved_at: new Date().toISOString(), api, product, opportunities: {} };
  for (const o of list) {
    if (!o.id) continue;
    const link = createOrderLink(o);
    saved.opportunities[o.id] = {
      href: link.href,
      body: link.body,
      datetime: o.properties.datetime,
      ...(o.properties.platform ? { platform: o.properties.platform } : {}),
    };
  }
  const file = savedFile();
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (e) {
    throw new UsageError(`cannot save the opportunities to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The create-order body of a saved opportunity; UsageError (exit 2) saying how to get one otherwise. */
function savedOpportunity(id: string, product: string, api: string): Record<string, unknown> {
  const again = `run skyport tasking opportunities ${product} … first`;
  let saved: SavedOpportunities;
  try {
    saved = JSON.parse(readFileSync(savedFile(), 'utf8')) as SavedOpportunities;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no opportunities saved yet' : `${savedFile()} is unreadable`;
    throw new UsageError(`${why}: ${again}`);
  }
  const found = saved?.opportunities?.[id];
  if (!found || saved.product !== product || saved.api !== api) {
    const last = `the last search (${saved.product} on ${saved.api}, ${saved.saved_at}, ${Object.keys(saved.opportunities ?? {}).length} opportunities)`;
    throw new UsageError(`opportunity ${id} of ${product} is not in ${last}: ${again}`);
  }
  return structuredClone(found.body);
}

// --- commands ----------------------------------------------------------------------------------------

function productsCommand(tasking: Command): void {
  tasking
    .command('products')
    .description('list the tasking products with limits and prices (a table on a terminal, JSON when piped or with --json)')
    .option(...PROFILE_OPTION)
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  skyport tasking products --profile acme-tasking')
    .action(async (opts: { profile: string; json?: boolean }) => {
      const list = await api(() => taskingClient(profile(opts.profile)).products());
      if (opts.json || !process.stdout.isTTY) return console.log(JSON.stringify(list, null, 2));
      const rows = list.map((p) => {
        const l = p['skyport:limits'];
        const pr = p['skyport:price'];
        const money = (k: 'standard' | 'priority' | 'urgent') => (pr?.[k] !== undefined ? (pr[k] / 100).toFixed(0) : '');
        return {
          id: p.id,
          title: p.title ?? '',
          sensor: l?.sensor ?? '',
          'max aoi': l ? `${l.max_aoi_km2} km²` : '',
          'max window': l ? `${l.max_window_days} d` : '',
          price: pr ? `${money('standard')}/${money('priority')}/${money('urgent')} ${pr.currency}` : '',
        };
      });
      console.log(table(rows, ['id', 'title', 'sensor', 'max aoi', 'max window', 'price']));
      console.log('price: standard/priority/urgent, per order');
    });
}

interface OpportunitiesOpts {
  aoi: string;
  from: string;
  to: string;
  maxOffNadir?: string;
  limit: string;
  format?: string;
  profile: string;
}

function opportunityRow(o: Opportunity): Record<string, string> {
  const p = o.properties;
  const [start, end] = p.datetime.split('/');
  return {
    start: shortTime(p.start_datetime ?? start),
    end: shortTime(p.end_datetime ?? end),
    satellite: p.platform ?? '',
    'off-nadir': degrees(p['view:off_nadir']),
    'sun elevation': degrees(p['view:sun_elevation']),
    id: o.id ?? '',
  };
}

function opportunitiesCommand(tasking: Command): void {
  tasking
    .command('opportunities <product>')
    .description('imaging opportunities (satellite passes) over an AOI in a window; remembers them for `tasking order --opportunity`')
    .requiredOption('--aoi <geojson>', 'the area of interest: a GeoJSON file, or inline GeoJSON (a Point or a Polygon)')
    .requiredOption('--from <datetime>', 'window start, RFC 3339 (e.g. 2026-06-01T00:00:00Z)')
    .requiredOption('--to <datetime>', 'window end, RFC 3339')
    .option('--max-off-nadir <deg>', 'only passes within this off-nadir angle (degrees)')
    .option('--limit <n>', 'opportunities to print in all, across pages', '50')
    .option('--format <format>', FORMAT_HELP)
    .option(...PROFILE_OPTION)
    .addHelpText(
      'after',
      '\nExample:\n  skyport tasking opportunities skyport-ms-tasking --aoi \'{"type":"Point","coordinates":[4.85,45.76]}\' \\\n' +
        '    --from 2026-06-01T00:00:00Z --to 2026-06-08T00:00:00Z --max-off-nadir 20\n' +
        '  then: skyport tasking order skyport-ms-tasking --opportunity <id>\n' +
        '\nThe printed opportunities replace the previous search in opportunities.json (0600) next to profiles.json.',
    )
    .action(async (product: string, opts: OpportunitiesOpts) => {
      const format = outputFormat(opts.format);
      const max = wholeNumber(opts.limit, '--limit');
      const maxOffNadir = positiveNumber(opts.maxOffNadir, '--max-off-nadir', 90);
      const search = {
        aoi: readAoi(opts.aoi),
        start: instant(opts.from, '--from'),
        end: instant(opts.to, '--to'),
        ...(maxOffNadir !== undefined ? { order_parameters: { max_off_nadir: maxOffNadir } } : {}),
      };
      const p = profile(opts.profile);
      quietEpipe();
      const results = taskingClient(p).opportunities(product, search, { maxItems: max });
      const found: Opportunity[] = [];
      await api(async () => {
        for await (const o of results) {
          found.push(o);
          if (format === 'ndjson') process.stdout.write(`${JSON.stringify(o)}\n`);
        }
      });
      saveOpportunities(apiOrigin(p), product, found);
      if (format === 'geojson')
        console.log(JSON.stringify({ type: 'FeatureCollection', features: found, 'skyport:notes': results.notes }, null, 2));
      if (format === 'table') {
        if (found.length) console.log(table(found.map(opportunityRow), ['start', 'end', 'satellite', 'off-nadir', 'sun elevation', 'id']));
        const hint = found.length ? `; order one: skyport tasking order ${product} --opportunity <id>` : '';
        console.log(`${found.length} opportunit${found.length === 1 ? 'y' : 'ies'}${hint}`);
      }
      for (const n of results.notes) console.error(`note: ${n.platform ? `${n.platform}: ` : ''}${n.reason}`);
    });
}

interface OrderOpts {
  opportunity?: string;
  aoi?: string;
  from?: string;
  to?: string;
  priority?: string;
  maxCloudCover?: string;
  maxOffNadir?: string;
  idempotencyKey?: string;
  json?: boolean;
  profile: string;
}

/** The order request of the command line: a saved opportunity's body, or an AOI and window; order parameters applied. */
function orderRequest(product: string, o: OrderOpts, p: Profile): OrderPayload {
  const byAoi = o.aoi !== undefined || o.from !== undefined || o.to !== undefined;
  if (o.opportunity !== undefined && byAoi) throw new UsageError('give either --opportunity or --aoi/--from/--to, not both');
  let body: Record<string, unknown>;
  if (o.opportunity !== undefined) body = savedOpportunity(o.opportunity, product, apiOrigin(p));
  else {
    if (o.aoi === undefined || o.from === undefined || o.to === undefined)
      throw new UsageError('give --opportunity <id> (from skyport tasking opportunities), or all of --aoi, --from and --to');
    body = { datetime: `${instant(o.from, '--from')}/${instant(o.to, '--to')}`, geometry: readAoi(o.aoi), filter: null };
  }
  const params: Record<string, unknown> = { ...(body.order_parameters as Record<string, unknown> | undefined) };
  if (o.priority !== undefined) params.priority = o.priority;
  const cloud = o.maxCloudCover === undefined ? undefined : Number(o.maxCloudCover);
  if (cloud !== undefined && (o.maxCloudCover!.trim() === '' || !(cloud >= 0 && cloud <= 100)))
    throw new UsageError('--max-cloud-cover must be a percentage from 0 to 100');
  if (cloud !== undefined) params.max_cloud_cover = cloud;
  const offNadir = positiveNumber(o.maxOffNadir, '--max-off-nadir', 90);
  if (offNadir !== undefined) params.max_off_nadir = offNadir;
  return { ...(body as unknown as OrderPayload), order_parameters: params };
}

function orderCommand(tasking: Command): void {
  tasking
    .command('order <product>')
    .description('order an image: an opportunity of the last `tasking opportunities` search, or any pass over an AOI in a window')
    .option('--opportunity <id>', 'an opportunity id printed by the last skyport tasking opportunities')
    .option('--aoi <geojson>', 'instead of --opportunity: the AOI (GeoJSON file or inline text)')
    .option('--from <datetime>', 'with --aoi: window start, RFC 3339')
    .option('--to <datetime>', 'with --aoi: window end, RFC 3339')
    .addOption(
      new Option('--priority <priority>', 'wins conflicts over lower priorities, costs more').choices(['standard', 'priority', 'urgent']),
    )
    .option('--max-cloud-cover <percent>', 'acquisitions cloudier than this are retried on a later pass (default 20)')
    .option('--max-off-nadir <deg>', 'largest off-nadir angle accepted (degrees)')
    .option('--idempotency-key <key>', 'repeat a key to retry an order safely (default: a new key each run)')
    .option('--json', 'print the order as JSON (the default when piped)')
    .option(...PROFILE_OPTION)
    .addHelpText(
      'after',
      '\nExamples:\n  skyport tasking order skyport-ms-tasking --opportunity 90003-20260602T101532Z-5d41402abc --priority priority\n' +
        '  skyport tasking order skyport-tir-tasking --aoi lyon.geojson --from 2026-06-01T00:00:00Z --to 2026-06-03T00:00:00Z \\\n' +
        '    --max-cloud-cover 30',
    )
    .action(async (product: string, opts: OrderOpts) => {
      const p = profile(opts.profile);
      const body = orderRequest(product, opts, p);
      const key = opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey };
      const o = await api(() => taskingClient(p).order(product, body, key));
      if (opts.json || !process.stdout.isTTY) return console.log(JSON.stringify(o, null, 2));
      console.log(
        [
          `order     ${o.id}`,
          `status    ${o.properties.status.status_code}`,
          `price     ${price(o)}${o.properties.priority ? ` (${o.properties.priority})` : ''}`,
          `product   ${o.properties.product_id}`,
          `window    ${o.properties.search_parameters.datetime}`,
          `follow it with: skyport tasking status ${o.id} --watch`,
        ].join('\n'),
      );
    });
}

function ordersCommand(tasking: Command): void {
  tasking
    .command('orders')
    .description("list your organization's orders, newest first (a table on a terminal, NDJSON when piped)")
    .option('--limit <n>', 'orders to print in all, across pages', '50')
    .option('--format <format>', FORMAT_HELP)
    .option(...PROFILE_OPTION)
    .addHelpText(
      'after',
      '\nExample:\n  skyport tasking orders --limit 10\n  skyport tasking orders | jq -r \'select(.properties.status.status_code=="completed") | .id\'',
    )
    .action(async (opts: { limit: string; format?: string; profile: string }) => {
      const format = outputFormat(opts.format);
      const max = wholeNumber(opts.limit, '--limit');
      const client = taskingClient(profile(opts.profile));
      quietEpipe();
      const list: Order[] = [];
      await api(async () => {
        for await (const o of client.orders({ maxItems: max })) {
          if (format === 'ndjson') process.stdout.write(`${JSON.stringify(o)}\n`);
          else list.push(o);
        }
      });
      if (format === 'geojson') console.log(JSON.stringify({ type: 'FeatureCollection', features: list }, null, 2));
      if (format !== 'table') return;
      const rows = list.map((o) => ({
        id: o.id,
        product: o.properties.product_id,
        status: o.properties.status.status_code,
        priority: o.properties.priority ?? '',
        price: price(o),
        created: shortTime(o.properties.created),
      }));
      if (rows.length) console.log(table(rows, ['id', 'product', 'status', 'priority', 'price', 'created']));
      console.log(`${rows.length} order(s)`);
    });
}

function statusText(s: OrderStatus): string {
  const reason = [s.reason_code, s.reason_text].filter(Boolean).join(': ');
  return `${shortTime(s.timestamp)}  ${s.status_code}${reason ? `  (${reason})` : ''}`;
}

/** After a final status: exit code 1 unless it delivered, a note on stderr saying why, the item on a terminal. */
function finish(id: string, s: OrderStatus, tty: boolean): void {
  if (s.status_code === 'completed') {
    const item = s.links.find((l) => l.rel === 'item')?.href;
    const m = item ? /\/collections\/([^/]+)\/items\/([^/?#]+)/.exec(new URL(item).pathname) : null;
    const target = m ? `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}` : undefined;
    if (tty && item) console.log(`delivered: ${item}${target ? `\ndownload it: skyport download ${target}` : ''}`);
    return;
  }
  if (!isFinalStatus(s.status_code)) return;
  process.exitCode = 1;
  console.error(`skyport: order ${id} is ${s.status_code}${s.reason_text ? `: ${s.reason_text}` : ''}`);
}

/** A status line redrawn in place on a terminal, with the time spent in the current status. */
function liveLine(id: string): { show: (s: OrderStatus) => void; end: () => void } {
  let current: OrderStatus | undefined;
  let since = Date.now();
  const draw = () => {
    if (!current) return;
    const secs = Math.round((Date.now() - since) / 1000);
    process.stdout.write(`\r\x1b[K${id}  ${statusText(current)}  [${secs} s]`);
  };
  const timer = setInterval(draw, 1000);
  return {
    show: (s) => {
      current = s;
      since = Date.now();
      draw();
    },
    end: () => {
      clearInterval(timer);
      if (current) process.stdout.write('\n');
    },
  };
}

/** `status --watch`: every status as it comes until a final one; rides out a few failed polls in a row. */
async function watchOrder(client: TaskingClient, id: string, intervalMs: number): Promise<OrderStatus | undefined> {
  const tty = Boolean(process.stdout.isTTY);
  const line = tty ? liveLine(id) : undefined;
  let seen = 0;
  let last: OrderStatus | undefined;
  let failures = 0;
  try {
    for (;;) {
      try {
        for await (const s of client.watch(id, { intervalMs, after: seen })) {
          seen++;
          failures = 0;
          last = s;
          if (line) line.show(s);
          else process.stdout.write(`${JSON.stringify(s)}\n`);
        }
        return last;
      } catch (e) {
        const transient = e instanceof TypeError && e.message === 'fetch failed';
        if (!transient || ++failures > WATCH_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    }
  } finally {
    line?.end();
  }
}

function statusCommand(tasking: Command): void {
  tasking
    .command('status <order>')
    .description(
      "an order's status history; --watch follows it until a final status (a live line on a terminal, one JSON status a line when piped)",
    )
    .option('--watch', 'keep polling until the order is completed, failed, rejected, expired or cancelled')
    .option('--interval <seconds>', 'seconds between polls with --watch', String(DEFAULT_WATCH_INTERVAL_S))
    .option(...PROFILE_OPTION)
    .addHelpText(
      'after',
      '\nExit status: 0, or 1 when the order ended without a delivery (failed, rejected, expired, cancelled).\n' +
        '\nExample:\n  skyport tasking status 0b6f3f0e-6a3c-4c55-9d1e-6f9a1c2b7e10 --watch && skyport download …',
    )
    .action(async (id: string, opts: { watch?: boolean; interval: string; profile: string }) => {
      const intervalS = positiveNumber(opts.interval, '--interval')!;
      if (intervalS < 0.05) throw new UsageError('--interval must be at least 0.05 seconds');
      const client = taskingClient(profile(opts.profile));
      const tty = Boolean(process.stdout.isTTY);
      quietEpipe();
      if (opts.watch) {
        const last = await api(() => watchOrder(client, id, Math.round(intervalS * 1000)));
        if (last) finish(id, last, tty);
        return;
      }
      const history = await api(() => client.statuses(id));
      for (const s of history) console.log(tty ? statusText(s) : JSON.stringify(s));
      const last = history[history.length - 1];
      if (last) finish(id, last, tty);
    });
}

function cancelCommand(tasking: Command): void {
  tasking
    .command('cancel <order>')
    .description('cancel an order; possible while it is received or accepted, not once scheduled (exit 2 then)')
    .option('--json', 'print the order as JSON (the default when piped)')
    .option(...PROFILE_OPTION)
    .addHelpText('after', '\nExample:\n  skyport tasking cancel 0b6f3f0e-6a3c-4c55-9d1e-6f9a1c2b7e10')
    .action(async (id: string, opts: { json?: boolean; profile: string }) => {
      const o = await api(() => taskingClient(profile(opts.profile)).cancel(id));
      if (opts.json || !process.stdout.isTTY) return console.log(JSON.stringify(o, null, 2));
      console.log(`${o.id}  ${statusText(o.properties.status)}`);
    });
}

/** Registers the customer commands of the `tasking` group (module comment). */
function customerTaskingCommands(tasking: Command): void {
  productsCommand(tasking);
  opportunitiesCommand(tasking);
  orderCommand(tasking);
  ordersCommand(tasking);
  statusCommand(tasking);
  cancelCommand(tasking);
}
