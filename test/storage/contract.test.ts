/**
 * The storage contract: one suite, run against both adapters (embedded SQLite and PostgreSQL).
 * Every behaviour the services rely on is pinned here, so a third adapter has a definition to meet.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import { PostgresStorage } from '../../src/storage/postgres/index.js';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { ConflictError, type ClientRecord, type SigningKeyRecord, type Storage } from '../../src/storage/types.js';
import { createTestDatabase, stores } from '../helpers/server.js';

/** Opens a fresh store; `second()` opens another handle on the same data, as a second process would. */
async function open(kind: 'sqlite' | 'postgres'): Promise<{ s: Storage; second: () => Storage; cleanup: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-contract-'));
    const file = path.join(dir, 'db.sqlite');
    const s = new SqliteStorage(file);
    return {
      s,
      second: () => new SqliteStorage(file),
      cleanup: async () => (await s.close(), rmSync(dir, { recursive: true, force: true })),
    };
  }
  const db = await createTestDatabase();
  const s = new PostgresStorage(db.url);
  return { s, second: () => new PostgresStorage(db.url), cleanup: async () => (await s.close(), await db.drop()) };
}

function client(id: string, orgId: string, over: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: id,
    orgId,
    name: `client ${id}`,
    rootScope: 'read-only',
    permissions: ['catalog:read', 'assets:read'],
    isRoot: false,
    enabled: true,
    createdAt: 1000,
    updatedAt: 1000,
    createdBy: null,
    tokensRevokedAt: null,
    secrets: [{ id: `${id}-s1`, hash: `hash-${id}-1`, hint: 'abcd', createdAt: 1000, expiresAt: null }],
    ...over,
  };
}

function key(kid: string, status: SigningKeyRecord['status'], alg = 'RS256'): SigningKeyRecord {
  return {
    kid,
    alg,
    publicJwk: { kty: 'RSA', kid },
    privateKey: 'pem',
    status,
    createdAt: 1,
    activatedAt: status === 'current' ? 1 : null,
    retiredAt: null,
    publishUntil: null,
  };
}

for (const kind of await stores()) {
  describe(`storage contract (${kind})`, () => {
    let s: Storage;
    let cleanup: () => Promise<void>;
    let second: () => Storage;
    const latest = kind === 'sqlite' ? SQLITE_MIGRATIONS.length : POSTGRES_MIGRATIONS.length;
    before(async () => {
      ({ s, second, cleanup } = await open(kind));
      assert.equal(await s.migrate(), latest);
    });
    after(() => cleanup());

    it('migrations are idempotent and concurrent-safe', async () => {
      const versions = await Promise.all([s.migrate(), s.migrate()]);
      assert.deepEqual(versions, [latest, latest]);
    });

    it('meta: setMetaIfAbsent keeps the first writer', async () => {
      assert.equal(await s.setMetaIfAbsent('k', 'first'), 'first');
      assert.equal(await s.setMetaIfAbsent('k', 'second'), 'first');
      await s.setMeta('k', 'third');
      assert.equal(await s.getMeta('k'), 'third');
      assert.equal(await s.getMeta('missing'), undefined);
    });

    it('organizations with their clients are created atomically; names are unique', async () => {
      await s.createOrganization({ id: 'o1', name: 'one', createdAt: 1 }, [
        client('c1', 'o1'),
        client('c2', 'o1', { isRoot: true, rootScope: 'admin', permissions: ['admin:read', 'admin:write'] }),
      ]);
      assert.deepEqual(await s.getOrganization('o1'), { id: 'o1', name: 'one', createdAt: 1 });
      assert.deepEqual((await s.getOrganizationByName('one'))?.id, 'o1');
      await assert.rejects(s.createOrganization({ id: 'o2', name: 'one', createdAt: 2 }, []), ConflictError);
      // A failing client insert rolls the organization back.
      await assert.rejects(s.createOrganization({ id: 'o3', name: 'three', createdAt: 3 }, [client('c1', 'o3')]), ConflictError);
      assert.equal(await s.getOrganization('o3'), undefined);
      await s.createOrganization({ id: 'o4', name: 'four', createdAt: 4 }, [client('c4', 'o4')]);
      assert.deepEqual(
        (await s.listOrganizations()).map((o) => o.id),
        ['o1', 'o4'],
      );
    });

    it('clients round-trip with their secrets; listing filters by organization', async () => {
      const c = await s.getClient('c2');
      assert.ok(c);
      assert.equal(c.isRoot, true);
      assert.equal(c.enabled, true);
      assert.deepEqual(c.permissions, ['admin:read', 'admin:write']);
      assert.equal(c.rootScope, 'admin');
      assert.deepEqual(c.secrets, [{ id: 'c2-s1', hash: 'hash-c2-1', hint: 'abcd', createdAt: 1000, expiresAt: null }]);
      assert.equal(await s.getClient('nope'), undefined);
      assert.deepEqual((await s.listClients('o1')).map((x) => x.clientId).sort(), ['c1', 'c2']);
      assert.deepEqual(
        (await s.listClients('o4')).map((x) => x.clientId),
        ['c4'],
      );
      assert.equal((await s.listClients()).length, 3);
      await assert.rejects(s.createClient(client('c4', 'o1')), ConflictError);
    });

    it('updateClient patches only given fields and bumps updatedAt', async () => {
      const u = await s.updateClient('c1', { enabled: false }, 5000);
      assert.equal(u?.enabled, false);
      assert.equal(u?.name, 'client c1');
      assert.equal(u?.updatedAt, 5000);
      const u2 = await s.updateClient('c1', { permissions: ['catalog:read'], name: 'renamed' }, 6000);
      assert.deepEqual(u2?.permissions, ['catalog:read']);
      assert.equal(u2?.enabled, false);
      assert.equal(await s.updateClient('nope', { enabled: true }, 1), undefined);
      assert.equal((await s.updateClient('c1', { tokensRevokedAt: 6500 }, 6500))?.tokensRevokedAt, 6500);
      assert.equal((await s.getClient('c2'))?.tokensRevokedAt, null);
    });

    it('rotateClientSecret keeps at most two secrets and drops the old one at once with no grace', async () => {
      const sec = (n: number) => ({ id: `c4-s${n}`, hash: `h${n}`, hint: 'x', createdAt: n, expiresAt: null });
      assert.equal(await s.rotateClientSecret('c4', sec(2), 10_000, 5000), true);
      let c = await s.getClient('c4');
      const byId = (c?.secrets ?? []).map((x) => [x.id, x.expiresAt]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(byId, [
        ['c4-s1', 10_000],
        ['c4-s2', null],
      ]);
      // A second rotation during the grace drops the oldest: never three.
      assert.equal(await s.rotateClientSecret('c4', sec(3), 20_000, 6000), true);
      c = await s.getClient('c4');
      assert.deepEqual(c?.secrets.map((x) => x.id).sort(), ['c4-s2', 'c4-s3']);
      assert.equal(await s.rotateClientSecret('c4', sec(4), 7000, 7000), true);
      c = await s.getClient('c4');
      assert.deepEqual(
        c?.secrets.map((x) => x.id),
        ['c4-s4'],
      );
      assert.equal(await s.rotateClientSecret('nope', sec(5), 0, 0), false);
    });

    it('a change committed through another handle is seen within 1 ms (no stale client cache)', async () => {
      const other = second();
      // The bound is CROSS_PROCESS_STALENESS_MS (1 ms): 2 ms between each write and the read.
      const settle = () => new Promise((r) => setTimeout(r, 2));
      try {
        assert.equal((await s.getClient('c1'))?.enabled, false);
        await other.updateClient('c1', { enabled: true }, 7000);
        await settle();
        assert.equal((await s.getClient('c1'))?.enabled, true);
        await other.rotateClientSecret('c1', { id: 'c1-s9', hash: 'h9', hint: 'x', createdAt: 9, expiresAt: null }, 0, 8000);
        await settle();
        assert.deepEqual(
          (await s.getClient('c1'))?.secrets.map((x) => x.id),
          ['c1-s9'],
        );
        await other.deleteClient('c1');
        await settle();
        assert.equal(await s.getClient('c1'), undefined);
      } finally {
        await other.close();
      }
    });

    it('deleteClient removes the client and its secrets', async () => {
      assert.equal(await s.deleteClient('c4'), true);
      assert.equal(await s.getClient('c4'), undefined);
      assert.equal(await s.deleteClient('c4'), false);
    });

    it('signing keys: rotation retires current, promotes next, inserts the new next atomically', async () => {
      await s.insertSigningKey(key('k1', 'current'));
      await s.insertSigningKey(key('k2', 'next'));
      await s.insertSigningKey(key('e1', 'current', 'ES256'));
      await assert.rejects(s.insertSigningKey(key('k1', 'next')), ConflictError);
      await s.rotateSigningKeys('RS256', key('k3', 'next'), 100, 5000);
      const byKid = Object.fromEntries((await s.listSigningKeys()).map((k) => [k.kid, k]));
      assert.equal(byKid.k1?.status, 'retired');
      assert.equal(byKid.k1?.publishUntil, 5000);
      assert.equal(byKid.k2?.status, 'current');
      assert.equal(byKid.k2?.activatedAt, 100);
      assert.equal(byKid.k3?.status, 'next');
      assert.equal(byKid.e1?.status, 'current', 'other algorithms untouched');
      assert.deepEqual(byKid.k1?.publicJwk, { kty: 'RSA', kid: 'k1' });
      await s.setSigningKeyPrivate('k2', 'enc:v1:sealed');
      assert.equal((await s.listSigningKeys()).find((k) => k.kid === 'k2')?.privateKey, 'enc:v1:sealed');
      assert.equal(await s.deleteSigningKeysPublishedBefore(4000), 0);
      assert.equal(await s.deleteSigningKeysPublishedBefore(6000), 1);
      assert.equal((await s.listSigningKeys()).length, 3);
    });

    it('revocations: listed by creation time, expired ones left out', async () => {
      await s.addRevocation({ kind: 'token', subject: 'j1', notBefore: 0, expiresAt: 10_000, createdAt: 1000 });
      await s.addRevocation({ kind: 'client', subject: 'c1', notBefore: 2000, expiresAt: 20_000, createdAt: 2000 });
      assert.deepEqual(
        (await s.listRevocations(0, 5000)).map((r) => r.subject),
        ['j1', 'c1'],
      );
      assert.deepEqual(
        (await s.listRevocations(1500, 5000)).map((r) => r.subject),
        ['c1'],
      );
      assert.deepEqual(
        (await s.listRevocations(0, 15_000)).map((r) => r.subject),
        ['c1'],
      );
    });

    it('audit: appended entries are listed newest first per organization, with paging', async () => {
      for (let i = 0; i < 5; i++) {
        await s.appendAudit({
          at: i,
          orgId: 'o1',
          actor: 'c2',
          action: `a${i}`,
          target: null,
          outcome: 'success',
          sourceIp: '127.0.0.1',
          details: { i },
        });
      }
      await s.appendAudit({
        at: 9,
        orgId: 'o4',
        actor: 'x',
        action: 'other',
        target: null,
        outcome: 'failure',
        sourceIp: null,
        details: {},
      });
      const page1 = await s.listAudit('o1', 3);
      assert.deepEqual(
        page1.map((e) => e.action),
        ['a4', 'a3', 'a2'],
      );
      assert.deepEqual(page1[0]?.details, { i: 4 });
      const page2 = await s.listAudit('o1', 3, page1.at(-1)?.id);
      assert.deepEqual(
        page2.map((e) => e.action),
        ['a1', 'a0'],
      );
      assert.equal((await s.listAudit(null, 100)).length, 6);
    });

    it('collections: open, licensed and private entitlements are filtered in the query', async () => {
      const body = { type: 'Collection' };
      await s.upsertCollection({ id: 'open', access: 'open', ownerOrgId: null, body, updatedAt: 1 });
      await s.upsertCollection({ id: 'lic', access: 'licensed', ownerOrgId: null, body, updatedAt: 1 });
      await s.upsertCollection({ id: 'priv1', access: 'private', ownerOrgId: 'o1', body, updatedAt: 1 });
      await s.grantCollection('lic', 'o4');
      await s.grantCollection('lic', 'o4');
      assert.deepEqual(
        (await s.listCollectionsFor('o1')).map((c) => c.id),
        ['open', 'priv1'],
      );
      assert.deepEqual(
        (await s.listCollectionsFor('o4')).map((c) => c.id),
        ['lic', 'open'],
      );
      assert.equal((await s.getCollectionFor('o1', 'priv1'))?.id, 'priv1');
      assert.equal(await s.getCollectionFor('o4', 'priv1'), undefined, 'private to another organization');
      assert.equal(await s.getCollectionFor('o1', 'lic'), undefined, 'licensed to another organization');
      assert.equal((await s.getCollectionFor('o4', 'lic'))?.id, 'lic');
      assert.equal(await s.getCollectionFor('o4', 'missing'), undefined);
      await s.upsertCollection({ id: 'open', access: 'open', ownerOrgId: null, body: { type: 'Collection', title: 't' }, updatedAt: 2 });
      assert.deepEqual((await s.listCollectionsFor('o1'))[0]?.body, { type: 'Collection', title: 't' });
    });
  });
}
