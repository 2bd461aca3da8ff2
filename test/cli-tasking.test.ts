/**
 * The customer's `skyport tasking …` commands end to end, as a user runs them against a real server whose
 * scheduler runs 100 000× faster than the wall clock: products, opportunities (NDJSON when piped, a table
 * on request or on a terminal, remembered 0600 for `order --opportunity`), order (from a remembered
 * opportunity or an AOI and window), orders, status (--watch to completion: one JSON status a line when
 * piped, a live line on a terminal), cancel, and the exit codes: 0 ok or completed, 1 an order that ended
 * without a delivery, 2 usage or a request the server refused, 3 not permitted.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { ClientCredentials, TaskingClient } from '../packages/sdk/src/index.js';
import { readAoi, taskingCommands } from '../src/cli/tasking.js';
import { UsageError } from '../src/cli/operator.js';
import { startServer, type TestServer } from './helpers/server.js';
import { available, cleanEnv, run, skyport, SKYPORT_BIN, type RunResult } from './helpers/proc.js';

const TIR = 'skyport-tir-tasking';
const MS = 'skyport-ms-tasking';
const HOUR = 3_600_000;
const LYON = { type: 'Point' as const, coordinates: [4.85, 45.76] };
const iso = (ms: number) => new Date(ms).toISOString();
const ndjson = (r: RunResult): any[] =>
  r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('skyport tasking (customer commands)', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  let aoiFile: string;
  let sdk: TaskingClient;
  /** An order completed in the order test, for later tests. */
  let completed: string;
  const savedFile = () => path.join(home, 'config', 'skyport', 'opportunities.json');
  const sk = (...args: string[]) => skyport(['tasking', ...args], env);
  const window = (fromH: number, toH: number) => {
    const now = Date.now();
    return ['--from', iso(now + fromH * HOUR), '--to', iso(now + toH * HOUR)];
  };

  before(async () => {
    s = await startServer({ env: { SKYPORT_TASKING_TIME_SCALE: '100000', SKYPORT_TASKING_TICK_MS: '50' } });
    home = mkdtempSync(path.join(os.tmpdir(), 'skyport-home-'));
    env = { XDG_CONFIG_HOME: path.join(home, 'config') };
    aoiFile = path.join(home, 'lyon.geojson');
    writeFileSync(aoiFile, JSON.stringify({ type: 'Feature', properties: {}, geometry: LYON }));
    const logins = (['tasking', 'read-only'] as const).map(async (scope) => {
      const creds = path.join(home, `${scope}.json`);
      copyFileSync(path.join(s.config.dataDir, 'credentials', `${scope}.json`), creds);
      chmodSync(creds, 0o600);
      return skyport(['login', '--creds', creds, ...(scope === 'tasking' ? [] : ['--profile', 'ro'])], env);
    });
    for (const r of await Promise.all(logins)) assert.equal(r.code, 0, r.stderr);
    const c = s.creds.tasking;
    sdk = new TaskingClient(new ClientCredentials({ clientId: c.client_id, clientSecret: c.client_secret, tokenUrl: c.token_url }), s.url);
  });
  after(async () => {
    await s.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('products prints JSON when piped; every customer command has --help with an example', async () => {
    const products = await sk('products');
    assert.equal(products.code, 0, products.stderr);
    assert.deepEqual(
      JSON.parse(products.stdout)
        .map((p: { id: string }) => p.id)
        .sort(),
      [MS, TIR],
    );
    // The help texts are read in-process: starting the CLI once per command would cost a second each.
    const program = new Command('skyport');
    taskingCommands(program);
    const group = program.commands.find((c) => c.name() === 'tasking')!;
    for (const name of ['products', 'opportunities', 'order', 'orders', 'status', 'cancel']) {
      const cmd = group.commands.find((c) => c.name() === name);
      assert.ok(cmd, `no tasking ${name}`);
      let help = '';
      cmd.configureOutput({ writeOut: (x) => (help += x) });
      cmd.outputHelp();
      assert.match(help, new RegExp(`Examples?:\\n\\s+skyport tasking ${name} `), name);
      assert.match(help, /--profile <name>/, name);
    }
  });

  it('--aoi takes inline GeoJSON or a file, a Feature or a one-feature FeatureCollection; anything else is a usage error', () => {
    assert.deepEqual(readAoi(aoiFile), LYON);
    assert.deepEqual(readAoi(JSON.stringify(LYON)), LYON);
    assert.deepEqual(readAoi(JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', geometry: LYON }] })), LYON);
    const refused: [string, RegExp][] = [
      ['{"type":', /the text is not valid JSON/],
      [path.join(home, 'missing.geojson'), /cannot read .*ENOENT/],
      [JSON.stringify({ type: 'FeatureCollection', features: [] }), /exactly one feature/],
      [JSON.stringify({ type: 'Point' }), /not a GeoJSON geometry/],
    ];
    for (const [v, re] of refused)
      assert.throws(
        () => readAoi(v),
        (e: unknown) => e instanceof UsageError && re.test(e.message),
      );
  });

  it('opportunities: a table (start, end, satellite, off-nadir, sun elevation, id) or NDJSON when piped, saved 0600 for ordering', async () => {
    const w = window(1, 96);
    const [t, n] = [
      await sk('opportunities', TIR, '--aoi', JSON.stringify(LYON), ...w, '--max-off-nadir', '25', '--format', 'table'),
      await sk('opportunities', TIR, '--aoi', aoiFile, ...w, '--max-off-nadir', '25', '--limit', '4'),
    ];
    assert.equal(t.code, 0, t.stderr);
    const rows = t.stdout.trim().split('\n');
    assert.match(rows[0]!, /^START\s+END\s+SATELLITE\s+OFF-NADIR\s+SUN ELEVATION\s+ID$/);
    const body = rows.slice(1, -1);
    assert.ok(body.length > 4, t.stdout);
    for (const r of body) {
      const m = /^(\S+Z)\s+(\S+Z)\s+(SKYPORT-TIR-\d+)\s+([\d.]+)°\s+(-?[\d.]+)°\s+(\S+)$/.exec(r);
      assert.ok(m, r);
      assert.ok(Date.parse(m[1]!) < Date.parse(m[2]!));
      assert.ok(Number(m[4]) <= 25, r);
    }
    assert.match(rows.at(-1)!, new RegExp(`^${body.length} opportunities; order one: skyport tasking order ${TIR} --opportunity <id>$`));

    assert.equal(n.code, 0, n.stderr);
    const opps = ndjson(n);
    assert.equal(opps.length, 4, '--limit counts opportunities');
    assert.deepEqual(
      opps.map((o) => o.id),
      body.slice(0, 4).map((r) => r.split(/\s+/).at(-1)),
    );
    assert.ok(opps.every((o) => o.type === 'Feature' && o.properties.product_id === TIR));
    assert.equal(statSync(savedFile()).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(savedFile(), 'utf8'));
    assert.equal(saved.product, TIR);
    assert.deepEqual(
      Object.keys(saved.opportunities),
      opps.map((o) => o.id),
    );
    const link = opps[0].links.find((l: { rel: string }) => l.rel === 'create-order');
    assert.deepEqual(saved.opportunities[opps[0].id].body, link.body);
    assert.equal(link.body.order_parameters.max_off_nadir, 25);
  });

  it('order --opportunity posts the saved pass; status --watch (piped) prints each status as JSON until completed, exit 0', async () => {
    const saved = JSON.parse(readFileSync(savedFile(), 'utf8'));
    const [id, opp] = Object.entries(saved.opportunities)[1] as [string, { body: { datetime: string } }];
    const r = await sk('order', TIR, '--opportunity', id, '--priority', 'priority', '--max-cloud-cover', '100');
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.stapi_type, 'Order');
    assert.deepEqual(o.properties.price, { amount: 350, currency: 'USD' });
    assert.deepEqual(o.properties.order_parameters, { max_off_nadir: 25, priority: 'priority', max_cloud_cover: 100 });
    const [a, b] = opp.body.datetime.split('/');
    assert.equal(o.properties.search_parameters.datetime, `${iso(Date.parse(a!))}/${iso(Date.parse(b!))}`);
    assert.deepEqual(o.geometry, LYON);

    const w = await sk('status', o.id, '--watch', '--interval', '0.05');
    assert.equal(w.code, 0, w.stderr);
    const statuses = ndjson(w);
    const codes = statuses.map((x) => x.status_code);
    assert.equal(codes[0], 'received');
    assert.equal(codes.at(-1), 'completed', codes.join(' → '));
    assert.deepEqual(statuses, await sdk.statuses(o.id), 'every status once, in order');
    completed = o.id;

    const [table, other] = await Promise.all([sk('orders', '--format', 'table', '--limit', '3'), sk('order', MS, '--opportunity', id)]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+PRODUCT\s+STATUS\s+PRIORITY\s+PRICE\s+CREATED\n/);
    assert.match(table.stdout, new RegExp(`${o.id}\\s+${TIR}\\s+completed\\s+priority\\s+350\\.00 USD\\s+\\S+Z\\n`));
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /opportunity \S+ of skyport-ms-tasking is not in the last search .*run skyport tasking opportunities/);
  });

  it('cancel while received (exit 0); status of the cancelled order exits 1; cancelling a completed order is exit 2', async () => {
    await s.skyport.scheduler.stop();
    let id: string;
    let late: RunResult;
    try {
      const now = Date.now();
      id = (await sdk.order(TIR, { datetime: `${iso(now + HOUR)}/${iso(now + 30 * HOUR)}`, geometry: LYON })).id;
      let c: RunResult;
      [c, late] = await Promise.all([sk('cancel', id), sk('cancel', completed)]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(JSON.parse(c.stdout).properties.status.status_code, 'cancelled');
    } finally {
      s.skyport.scheduler.start();
    }
    const status = await sk('status', id);
    assert.equal(status.code, 1, status.stderr);
    assert.deepEqual(
      ndjson(status).map((x) => x.status_code),
      ['received', 'cancelled'],
    );
    assert.match(status.stderr, new RegExp(`order ${id} is cancelled: cancelled by client`));
    assert.equal(late.code, 2, late.stderr);
    assert.match(late.stderr, /409 Conflict: .*completed/);
  });

  it('an order the scheduler rejects (no pass in its window) ends status --watch with exit 1 and the reason', async () => {
    // A two-minute window without any pass of the thermal fleet (checked with the same search the scheduler makes).
    let w: [number, number] | undefined;
    for (let k = 0; k < 60 && !w; k++) {
      const start = Date.now() + (10 + 7 * k) * 60_000;
      const found = sdk.opportunities(TIR, { aoi: LYON, start: new Date(start), end: new Date(start + 120_000) });
      if ((await found[Symbol.asyncIterator]().next()).done) w = [start, start + 120_000];
    }
    assert.ok(w, 'no empty two-minute window found');
    const r = await sk('order', TIR, '--aoi', aoiFile, '--from', iso(w[0]), '--to', iso(w[1]));
    assert.equal(r.code, 0, r.stderr);
    const watched = await sk('status', JSON.parse(r.stdout).id, '--watch', '--interval', '0.05');
    assert.equal(watched.code, 1, watched.stderr);
    assert.equal(ndjson(watched).at(-1).status_code, 'rejected');
    assert.match(watched.stderr, /is rejected: no thermal satellite can image the area/);
  });

  it('exit codes: 2 for local mistakes and requests the server refuses, 3 for a read-only profile ordering', async () => {
    const w = window(1, 24);
    const cases: [string[], number, RegExp][] = [
      [['opportunities', TIR, '--aoi', aoiFile, '--from', 'yesterday', '--to', w[3]!], 2, /--from must be an RFC 3339 date-time/],
      [['opportunities', TIR, '--aoi', aoiFile, w[0]!, w[3]!, w[2]!, w[1]!], 2, /400 BadRequest: datetime: .*reversed/],
      [['order', TIR, '--opportunity', 'x', '--aoi', aoiFile, ...w], 2, /either --opportunity or --aoi/],
      [['order', TIR, '--aoi', aoiFile, ...w, '--profile', 'ro'], 3, /tasking:order/],
      [['status', '6f1c2d44-0000-4000-8000-000000000000'], 2, /404 NotFound/],
    ];
    let before = 0;
    for await (const page of sdk.orderPages({ limit: 100 })) before += page.features.length;
    const [ro, ...results] = await Promise.all([sk('orders', '--profile', 'ro', '--limit', '100'), ...cases.map(([args]) => sk(...args))]);
    for (const [i, r] of results.entries()) {
      const [args, code, re] = cases[i]!;
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.equal(ro.code, 0, ro.stderr);
    assert.equal(ndjson(ro).length, before, 'the read-only profile reads the same orders; nothing was created');
  });

  it('on a terminal: order prints id, status and price; status --watch is one live line, then where to download', async (t) => {
    if (!(await available('script', ['-qec', 'true', '/dev/null']))) return t.skip('no `script` to give the CLI a terminal');
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const tty = (...args: string[]) =>
      run('script', ['-qec', [process.execPath, SKYPORT_BIN, 'tasking', ...args].map(quote).join(' '), '/dev/null'], {
        env: cleanEnv({ ...env, COLUMNS: '200' }),
      });
    const id = Object.keys(JSON.parse(readFileSync(savedFile(), 'utf8')).opportunities)[0]!;
    const order = await tty('order', TIR, '--opportunity', id, '--max-cloud-cover', '100');
    assert.equal(order.code, 0, order.stdout);
    const orderId = /^order\s+(\S+)\r?$/m.exec(order.stdout)?.[1];
    assert.ok(orderId, order.stdout);
    assert.match(order.stdout, /^status\s+received\r?$/m);
    assert.match(order.stdout, /^price\s+200\.00 USD \(standard\)\r?$/m);
    const w = await tty('status', orderId, '--watch', '--interval', '0.05');
    assert.equal(w.code, 0, w.stdout);
    const frames = w.stdout.split('\r\x1b[K').filter(Boolean);
    assert.ok(frames.length >= 2, 'the line is redrawn');
    assert.ok(!w.stdout.includes('{'), 'no JSON on a terminal');
    assert.match(frames.at(-1)!, new RegExp(`^${orderId}\\s+\\S+Z\\s+completed`));
    assert.match(w.stdout, new RegExp(`download it: skyport download tasking-[^/\\s]+/${orderId}`));
  });
});
