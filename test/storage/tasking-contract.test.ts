/**
 * The tasking half of the storage contract (`src/storage/tasking.ts`), on both adapters: element sets,
 * orders (idempotency conflicts, organization isolation, keyset paging), optimistic transitions (a stale
 * version writes nothing; two racing transitions, exactly one wins; a delivery's item and private
 * collection land atomically and only its organization sees them), due and booked-overlap queries,
 * the scheduler lease, webhooks and their delivery log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { ConflictError, QueryError, type ItemRecord, type Storage } from '../../src/storage/types.js';
import type { BookedPass, OrderRecord, OrderStatusRecord, WebhookDeliveryRecord } from '../../src/storage/tasking.js';
import { createTestDatabase, stores } from '../helpers/server.js';

async function open(kind: 'sqlite' | 'postgres'): Promise<{ s: Storage; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-tasking-'));
    const s = new SqliteStorage(path.join(dir, 'db.sqlite'));
    return { s, cleanup: async () => (await s.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const db = await createTestDatabase();
  const s = new PostgresStorage(db.url);
  return { s, cleanup: async () => (await s.close(), await db.drop()) };
}

const T0 = Date.parse('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

function order(id: string, over: Partial<OrderRecord> = {}): OrderRecord {
  return {
    id,
    orgId: 'org-a',
    clientId: 'client-a',
    productId: 'optical-hr',
    geometry: { type: 'Point', coordinates: [12.5, 41.9] },
    windowStart: T0,
    windowEnd: T0 + 48 * HOUR,
    orderParameters: { max_cloud_cover: 20, priority: 'standard' },
    filter: null,
    priority: 'standard',
    priceMinor: 125_000,
    currency: 'EUR',
    status: 'received',
    booked: null,
    attempts: 0,
    nextActionAt: T0,
    itemId: null,
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...over,
  };
}

const received = (timestamp = T0): Omit<OrderStatusRecord, 'orderId' | 'seq'> => ({
  timestamp,
  statusCode: 'received',
  reasonCode: null,
  reasonText: null,
  links: [],
});

const pass = (noradId: number, start: number, minutes = 10): BookedPass => ({
  noradId,
  satellite: `SAT-${noradId}`,
  start,
  end: start + minutes * 60_000,
  tca: start + (minutes / 2) * 60_000,
  offNadirDeg: 12.5,
  sunElevationDeg: 40.25,
});

function delivery(id: string, over: Partial<WebhookDeliveryRecord> = {}): WebhookDeliveryRecord {
  return {
    id,
    webhookId: 'wh-1',
    orgId: 'org-a',
    messageId: `msg_${id}`,
    eventType: 'order.status',
    payload: { order_id: 'o-x', status: 'accepted', nested: { b: 1, a: [1, 2] } },
    state: 'pending',
    attempts: 0,
    nextAttemptAt: T0,
    lastStatus: null,
    lastError: null,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function capture(collection: string, id: string): ItemRecord {
  return {
    collection,
    id,
    item: {
      type: 'Feature',
      stac_version: '1.0.0',
      id,
      collection,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [12, 41],
            [13, 41],
            [13, 42],
            [12, 42],
            [12, 41],
          ],
        ],
      },
      bbox: [12, 41, 13, 42],
      properties: { datetime: '2030-01-01T10:05:00Z', 'eo:cloud_cover': 3 },
      links: [],
      assets: {},
    },
  };
}

const privateCollection = (orgId: string) => ({
  id: `tasking-${orgId}`,
  access: 'private' as const,
  ownerOrgId: orgId,
  body: { type: 'Collection', id: `tasking-${orgId}`, stac_version: '1.0.0', description: 'tasked', license: 'proprietary', links: [] },
  updatedAt: T0,
});

for (const kind of await stores()) {
  describe(`tasking storage contract (${kind})`, () => {
    let s: Storage;
    let cleanup: () => Promise<void>;

    before(async () => {
      ({ s, cleanup } = await open(kind));
      await s.migrate();
      for (const o of ['org-a', 'org-b']) await s.createOrganization({ id: o, name: o, createdAt: 1 }, []);
    });
    after(() => cleanup());

    it('element sets: upsert by NORAD id replaces, list is ordered by id', async () => {
      const tle = (noradId: number, name: string, epoch: number) => ({
        noradId,
        name,
        line1: `1 ${noradId}U`,
        line2: `2 ${noradId}`,
        epoch,
        sensor: 'optical' as const,
        loadedAt: T0,
      });
      await s.upsertTleSets([tle(90002, 'B', T0), tle(90001, 'A', T0)]);
      await s.upsertTleSets([{ ...tle(90002, 'B2', T0 + 1), sensor: 'thermal' }]);
      assert.deepEqual(await s.listTleSets(), [tle(90001, 'A', T0), { ...tle(90002, 'B2', T0 + 1), sensor: 'thermal' }]);
    });

    it('createOrder round-trips every field, writes the first status and the idempotency record', async () => {
      const o = order('o-1', { filter: { op: '<', args: [{ property: 'eo:cloud_cover' }, 10] }, booked: pass(1, T0 + HOUR) });
      await s.createOrder(o, received(), { clientId: 'client-a', key: 'k-1', requestHash: 'h1', orderId: 'o-1', createdAt: T0 });
      assert.deepEqual(await s.getOrderFor('org-a', 'o-1'), o);
      assert.deepEqual(await s.listOrderStatuses('o-1'), [{ orderId: 'o-1', seq: 1, ...received() }]);
      assert.deepEqual(await s.getIdempotency('client-a', 'k-1'), {
        clientId: 'client-a',
        key: 'k-1',
        requestHash: 'h1',
        orderId: 'o-1',
        createdAt: T0,
      });
      assert.equal(await s.getIdempotency('client-b', 'k-1'), undefined, 'keys are scoped to the client');
    });

    it('a used idempotency key is a ConflictError and writes no order; another client may use the same key', async () => {
      const idem = { clientId: 'client-a', key: 'k-1', requestHash: 'h2', orderId: 'o-dup', createdAt: T0 };
      await assert.rejects(s.createOrder(order('o-dup'), received(), idem), ConflictError);
      assert.equal(await s.getOrderFor('org-a', 'o-dup'), undefined);
      assert.deepEqual(await s.listOrderStatuses('o-dup'), []);
      assert.equal((await s.getIdempotency('client-a', 'k-1'))?.orderId, 'o-1');
      await s.createOrder(order('o-other', { orgId: 'org-b', clientId: 'client-b' }), received(), {
        ...idem,
        clientId: 'client-b',
        orderId: 'o-other',
      });
      assert.equal((await s.getIdempotency('client-b', 'k-1'))?.orderId, 'o-other');
      await assert.rejects(s.createOrder(order('o-1'), received()), ConflictError, 'a duplicate order id too');
    });

    it("another organization's order is undefined, in fetch and in lists", async () => {
      assert.equal(await s.getOrderFor('org-b', 'o-1'), undefined);
      assert.equal(await s.getOrderFor('org-a', 'o-other'), undefined);
      assert.equal(await s.getOrderFor('org-a', 'missing'), undefined);
      assert.deepEqual(
        (await s.listOrdersFor('org-b', 10)).map((o) => o.id),
        ['o-other'],
      );
      assert.deepEqual(await s.listOrdersFor('org-b', 10, 'o-1'), [], "a cursor of another organization's order pages to nothing");
    });

    it('listOrdersFor pages newest first with beforeId, ties on created_at broken by id', async () => {
      const org = 'org-page';
      await s.createOrganization({ id: org, name: org, createdAt: 1 }, []);
      const created = [5, 1, 3, 3, 3, 2, 4];
      for (const [n, c] of created.entries()) await s.createOrder(order(`p-${n}`, { orgId: org, createdAt: T0 + c }), received());
      const expected = created
        .map((c, n) => ({ id: `p-${n}`, c }))
        .sort((a, b) => b.c - a.c || (a.id < b.id ? 1 : -1))
        .map((x) => x.id);
      const seen: string[] = [];
      let before: string | undefined;
      for (;;) {
        const page = await s.listOrdersFor(org, 3, before);
        seen.push(...page.map((o) => o.id));
        if (page.length < 3) break;
        before = page.at(-1)!.id;
      }
      assert.deepEqual(seen, expected);
      assert.deepEqual(await s.listOrdersFor(org, 3, 'no-such-order'), []);
    });

    it('transitionOrder applies the patch, bumps the version, appends the status and enqueues deliveries', async () => {
      await s.createWebhook({
        id: 'wh-1',
        orgId: 'org-a',
        url: 'https://example.test/h',
        secret: 'whsec_x',
        events: ['order.status'],
        enabled: true,
        createdAt: T0,
      });
      await s.createOrder(order('o-t'), received());
      const accepted = {
        timestamp: T0 + 1,
        statusCode: 'accepted' as const,
        reasonCode: null,
        reasonText: null,
        links: [{ rel: 'x', href: 'y' }],
      };
      const next = await s.transitionOrder(
        'o-t',
        1,
        { status: 'accepted', nextActionAt: T0 + 5 },
        { status: accepted, deliveries: [delivery('d-t1', { createdAt: T0 + 1 })] },
        T0 + 1,
      );
      assert.deepEqual(next, { ...order('o-t'), status: 'accepted', nextActionAt: T0 + 5, updatedAt: T0 + 1, version: 2 });
      assert.deepEqual(await s.getOrderFor('org-a', 'o-t'), next);
      assert.deepEqual(
        (await s.listOrderStatuses('o-t')).map((x) => [x.seq, x.statusCode, x.links]),
        [
          [1, 'received', []],
          [2, 'accepted', [{ rel: 'x', href: 'y' }]],
        ],
      );
      assert.deepEqual(
        (await s.listDeliveriesFor('org-a', 10)).map((d) => d.id),
        ['d-t1'],
      );
      // Booking a pass, then clearing it and nextActionAt; a status from patch alone is recorded in the history too.
      const b = pass(7, T0 + 2 * HOUR);
      const scheduled = await s.transitionOrder('o-t', 2, { status: 'scheduled', booked: b, attempts: 1 }, {}, T0 + 2);
      assert.deepEqual([scheduled?.status, scheduled?.booked, scheduled?.attempts, scheduled?.version], ['scheduled', b, 1, 3]);
      const last = (await s.listOrderStatuses('o-t')).at(-1)!;
      assert.deepEqual([last.seq, last.statusCode, last.timestamp], [3, 'scheduled', T0 + 2]);
      const cleared = await s.transitionOrder('o-t', 3, { booked: null, nextActionAt: null }, {}, T0 + 3);
      assert.deepEqual([cleared?.status, cleared?.booked, cleared?.nextActionAt, cleared?.version], ['scheduled', null, null, 4]);
      assert.equal((await s.listOrderStatuses('o-t')).length, 3, 'no status given: none appended');
      await assert.rejects(
        s.transitionOrder('o-t', 4, { status: 'processing' }, { status: { ...accepted, statusCode: 'failed' } }, T0 + 4),
        'a patch status disagreeing with the status record is refused',
      );
      assert.equal((await s.getOrderFor('org-a', 'o-t'))?.version, 4);
    });

    it('a stale version writes nothing: no status, no item, no collection, no delivery', async () => {
      await s.createOrder(order('o-stale'), received());
      assert.ok(await s.transitionOrder('o-stale', 1, { status: 'accepted' }, {}, T0 + 1));
      const res = await s.transitionOrder(
        'o-stale',
        1,
        { status: 'completed', itemId: 'cap-stale' },
        {
          status: { ...received(T0 + 2), statusCode: 'completed' },
          collection: privateCollection('org-a'),
          item: capture('tasking-org-a', 'cap-stale'),
          deliveries: [delivery('d-stale')],
        },
        T0 + 2,
      );
      assert.equal(res, undefined);
      assert.equal((await s.listOrderStatuses('o-stale')).length, 2);
      const o = await s.getOrderFor('org-a', 'o-stale');
      assert.deepEqual([o?.status, o?.itemId, o?.version], ['accepted', null, 2]);
      assert.equal(await s.getCollection('tasking-org-a'), undefined);
      assert.equal(await s.getItem('tasking-org-a', 'cap-stale'), undefined);
      assert.ok(!(await s.listDeliveriesFor('org-a', 100)).some((d) => d.id === 'd-stale'));
      assert.equal(await s.transitionOrder('missing', 1, { status: 'accepted' }, {}, T0), undefined, 'a missing order likewise');
    });

    it('a delivery writes the item and the new private collection atomically; only the owner sees the item', async () => {
      await s.createOrder(order('o-d'), received());
      const done = await s.transitionOrder(
        'o-d',
        1,
        { status: 'completed', itemId: 'cap-1', nextActionAt: null },
        { collection: privateCollection('org-a'), item: capture('tasking-org-a', 'cap-1') },
        T0 + 10,
      );
      assert.deepEqual([done?.status, done?.itemId], ['completed', 'cap-1']);
      assert.equal((await s.getCollection('tasking-org-a'))?.access, 'private');
      assert.ok(await s.getItemFor('org-a', 'tasking-org-a', 'cap-1'));
      assert.equal(await s.getItemFor('org-b', 'tasking-org-a', 'cap-1'), undefined);
      const search = (org: string) => s.searchItems(org, { ids: ['cap-1'], sortby: [], limit: 10, countLimit: 0 });
      assert.deepEqual(
        (await search('org-a')).items.map((i) => i.id),
        ['cap-1'],
      );
      assert.deepEqual((await search('org-b')).items, []);
      // A second delivery into the existing collection keeps it (ON CONFLICT DO NOTHING) and adds its item.
      await s.createOrder(order('o-d2'), received());
      const body2 = { ...privateCollection('org-a'), body: { changed: true } };
      assert.ok(
        await s.transitionOrder(
          'o-d2',
          1,
          { status: 'completed', itemId: 'cap-2' },
          { collection: body2, item: capture('tasking-org-a', 'cap-2') },
          T0 + 11,
        ),
      );
      assert.equal((await s.getCollection('tasking-org-a'))?.body.description, 'tasked');
      assert.ok(await s.getItem('tasking-org-a', 'cap-2'));
    });

    it('a failing extra (item into a collection owned by another organization) rolls the whole transition back', async () => {
      await s.createOrder(order('o-bad', { orgId: 'org-b', clientId: 'client-b' }), received());
      const wrong = { ...privateCollection('org-a'), ownerOrgId: 'org-b' };
      await assert.rejects(
        s.transitionOrder(
          'o-bad',
          1,
          { status: 'completed', itemId: 'cap-x' },
          { collection: wrong, item: capture('tasking-org-a', 'cap-x'), deliveries: [delivery('d-bad', { orgId: 'org-b' })] },
          T0 + 20,
        ),
        ConflictError,
      );
      assert.deepEqual(
        [(await s.getOrderFor('org-b', 'o-bad'))?.status, (await s.getOrderFor('org-b', 'o-bad'))?.version],
        ['received', 1],
      );
      assert.equal((await s.listOrderStatuses('o-bad')).length, 1);
      assert.equal(await s.getItem('tasking-org-a', 'cap-x'), undefined);
      assert.deepEqual(await s.listDeliveriesFor('org-b', 10), []);
      // The catalog upsert itself failing (unknown collection) after the status was appended: all rolled back too.
      await assert.rejects(
        s.transitionOrder('o-bad', 1, { status: 'completed' }, { item: capture('no-such-collection', 'cap-y') }, T0 + 21),
        QueryError,
      );
      assert.equal((await s.listOrderStatuses('o-bad')).length, 1);
      assert.equal((await s.getOrderFor('org-b', 'o-bad'))?.version, 1);
      assert.ok(await s.transitionOrder('o-bad', 1, { status: 'accepted' }, {}, T0 + 22), 'the order is still usable');
    });

    it('two concurrent transitions from the same version: exactly one wins, one status appended', async () => {
      for (let round = 0; round < 5; round++) {
        const id = `o-race-${round}`;
        await s.createOrder(order(id), received());
        const results = await Promise.all(
          (['accepted', 'cancelled'] as const).map((status) =>
            s.transitionOrder(id, 1, { status }, { deliveries: [delivery(`d-race-${round}-${status}`)] }, T0 + 1),
          ),
        );
        const winners = results.filter(Boolean);
        assert.equal(winners.length, 1);
        const statuses = await s.listOrderStatuses(id);
        assert.deepEqual(
          statuses.map((x) => x.statusCode),
          ['received', winners[0]!.status],
        );
        assert.equal((await s.getOrderFor('org-a', id))?.version, 2);
        const deliveries = (await s.listDeliveriesFor('org-a', 1000)).filter((d) => d.id.startsWith(`d-race-${round}-`));
        assert.deepEqual(
          deliveries.map((d) => d.id),
          [`d-race-${round}-${winners[0]!.status}`],
        );
      }
    });

    it('listDueOrders: nextActionAt ≤ now, soonest first, limited; final (null) orders never', async () => {
      const org = 'org-due';
      await s.createOrganization({ id: org, name: org, createdAt: 1 }, []);
      const base = T0 + 1000 * HOUR;
      // Existing orders are due at T0; query from a clean window by choosing now relative to `base`.
      for (const [id, at] of [
        ['due-3', base + 3],
        ['due-1', base + 1],
        ['due-2', base + 2],
        ['later', base + 100],
      ] as const) {
        await s.createOrder(order(id, { orgId: org, nextActionAt: at }), received());
      }
      await s.createOrder(order('due-never', { orgId: org, nextActionAt: null }), received());
      const due = (await s.listDueOrders(base + 3, 1000)).filter((o) => o.orgId === org).map((o) => o.id);
      assert.deepEqual(due, ['due-1', 'due-2', 'due-3']);
      const all = await s.listDueOrders(base + 3, 1000);
      assert.deepEqual(
        all.map((o) => o.nextActionAt),
        [...all.map((o) => o.nextActionAt!)].sort((a, b) => a - b),
        'soonest first',
      );
      assert.ok(all.every((o) => o.nextActionAt !== null && o.nextActionAt <= base + 3));
      assert.equal((await s.listDueOrders(base + 3, 2)).length, 2);
    });

    it('listBookedOrders: same satellite, overlapping (inclusive) interval, non-final orders', async () => {
      const org = 'org-book';
      await s.createOrganization({ id: org, name: org, createdAt: 1 }, []);
      const p0 = T0 + 500 * HOUR;
      const mk = async (id: string, b: BookedPass, status: OrderRecord['status'] = 'scheduled') =>
        s.createOrder(order(id, { orgId: org, booked: b, status }), { ...received(), statusCode: status });
      await mk('b-a', pass(42, p0)); // [p0, p0+10min]
      await mk('b-b', pass(42, p0 + 20 * 60_000)); // [p0+20, p0+30]
      await mk('b-other-sat', pass(43, p0));
      await mk('b-cancelled', pass(42, p0), 'cancelled');
      const ids = async (start: number, end: number) => (await s.listBookedOrders(42, start, end)).map((o) => o.id);
      assert.deepEqual(await ids(p0 + 5 * 60_000, p0 + 25 * 60_000), ['b-a', 'b-b']);
      assert.deepEqual(await ids(p0 + 11 * 60_000, p0 + 19 * 60_000), [], 'the gap between passes');
      assert.deepEqual(await ids(p0 + 10 * 60_000, p0 + 10 * 60_000), ['b-a'], 'touching ends overlap');
      assert.deepEqual(await ids(p0 - HOUR, p0 - 1), []);
      // Un-booking releases the pass.
      const a = (await s.getOrderFor(org, 'b-a'))!;
      await s.transitionOrder('b-a', a.version, { booked: null }, {}, T0);
      assert.deepEqual(await ids(p0, p0 + HOUR), ['b-b']);
    });

    it('lease: one holder at a time until expiry, renewal by the holder, release frees it', async () => {
      const ttl = 10_000;
      assert.equal(await s.acquireLease('scheduler', 'h1', ttl, T0), true);
      assert.equal(await s.acquireLease('scheduler', 'h2', ttl, T0 + 1), false);
      assert.equal(await s.acquireLease('other-lease', 'h2', ttl, T0 + 1), true, 'leases are independent by name');
      assert.equal(await s.acquireLease('scheduler', 'h1', ttl, T0 + 5_000), true, 'renewed until T0 + 15 s');
      assert.equal(await s.acquireLease('scheduler', 'h2', ttl, T0 + 14_999), false);
      assert.equal(await s.acquireLease('scheduler', 'h2', ttl, T0 + 15_000), true, 'expired: taken over');
      assert.equal(await s.acquireLease('scheduler', 'h1', ttl, T0 + 15_001), false, 'the old holder lost it');
      await s.releaseLease('scheduler', 'h1');
      assert.equal(await s.acquireLease('scheduler', 'h1', ttl, T0 + 15_002), false, "releasing someone else's lease does nothing");
      await s.releaseLease('scheduler', 'h2');
      assert.equal(await s.acquireLease('scheduler', 'h1', ttl, T0 + 15_003), true, 'released: free at once');
    });

    it('lease: many concurrent contenders for a free lease, exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, k) => s.acquireLease('race', `h${k}`, 10_000, T0)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('webhooks: create, list by organization, conflict on id, delete scoped to the organization', async () => {
      const w = {
        id: 'wh-2',
        orgId: 'org-b',
        url: 'https://b.test/h',
        secret: 'whsec_b',
        events: ['order.status'],
        enabled: false,
        createdAt: T0 + 1,
      };
      await s.createWebhook(w);
      await assert.rejects(s.createWebhook({ ...w, orgId: 'org-a' }), ConflictError);
      assert.deepEqual(await s.listWebhooksFor('org-b'), [w]);
      assert.deepEqual(
        (await s.listWebhooksFor('org-a')).map((x) => [x.id, x.enabled]),
        [['wh-1', true]],
      );
      assert.equal(await s.deleteWebhookFor('org-a', 'wh-2'), false, "another organization's webhook");
      assert.equal(await s.deleteWebhookFor('org-b', 'wh-2'), true);
      assert.equal(await s.deleteWebhookFor('org-b', 'wh-2'), false);
      assert.deepEqual(await s.listWebhooksFor('org-b'), []);
    });

    it('deliveries: due ones oldest first, updates, log newest first per organization; deleting a webhook fails its pending ones', async () => {
      const org = 'org-wh';
      await s.createOrganization({ id: org, name: org, createdAt: 1 }, []);
      await s.createWebhook({
        id: 'wh-3',
        orgId: org,
        url: 'https://c.test/h',
        secret: 'whsec_c',
        events: ['order.status'],
        enabled: true,
        createdAt: T0,
      });
      await s.createOrder(order('o-wh', { orgId: org }), received());
      const late = T0 + 2000 * HOUR;
      const ds = [
        delivery('w-2', { webhookId: 'wh-3', orgId: org, createdAt: late + 2, nextAttemptAt: late + 2 }),
        delivery('w-1', { webhookId: 'wh-3', orgId: org, createdAt: late + 1, nextAttemptAt: late + 5 }),
        delivery('w-3', { webhookId: 'wh-3', orgId: org, createdAt: late + 3, nextAttemptAt: late + 100 }),
      ];
      assert.ok(await s.transitionOrder('o-wh', 1, { status: 'accepted' }, { deliveries: ds }, late));
      const dueIds = async (now: number) => (await s.listDueDeliveries(now, 1000)).filter((d) => d.orgId === org).map((d) => d.id);
      assert.deepEqual(await dueIds(late + 5), ['w-1', 'w-2']);
      assert.deepEqual(
        (await s.listDueDeliveries(late + 5, 1000)).find((d) => d.id === 'w-2'),
        ds[0],
      );
      await s.updateDelivery('w-1', { state: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 204 }, late + 6);
      await s.updateDelivery('w-2', { attempts: 1, nextAttemptAt: late + 50, lastStatus: 500, lastError: 'HTTP 500' }, late + 6);
      assert.deepEqual(await dueIds(late + 10), []);
      const log = await s.listDeliveriesFor(org, 10);
      assert.deepEqual(
        log.map((d) => d.id),
        ['w-3', 'w-2', 'w-1'],
      );
      assert.deepEqual(log[2], { ...ds[1], state: 'delivered', attempts: 1, nextAttemptAt: null, lastStatus: 204, updatedAt: late + 6 });
      assert.deepEqual(
        [log[1]!.state, log[1]!.attempts, log[1]!.nextAttemptAt, log[1]!.lastStatus, log[1]!.lastError],
        ['pending', 1, late + 50, 500, 'HTTP 500'],
      );
      assert.equal((await s.listDeliveriesFor(org, 1)).length, 1);
      assert.deepEqual(await s.listDeliveriesFor('org-b', 10), []);
      await s.deleteWebhookFor(org, 'wh-3');
      assert.deepEqual(await dueIds(late + 1000), [], 'nothing is sent to a deleted webhook');
      assert.deepEqual(
        (await s.listDeliveriesFor(org, 10)).map((d) => [d.id, d.state]),
        [
          ['w-3', 'failed'],
          ['w-2', 'failed'],
          ['w-1', 'delivered'],
        ],
        'the log stays',
      );
    });
  });
}
