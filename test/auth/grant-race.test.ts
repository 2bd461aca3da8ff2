/**
 * A grant that read its client before a concurrent disable/revoke-tokens committed must not hand
 * out a token: the revocation (iat ≤ its second) would not cover a token signed a second later.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RevocationList } from '../../src/access/revocations.js';
import { InvalidClient } from '../../src/auth/errors.js';
import { clientCredentialsGrant } from '../../src/auth/grants/client-credentials.js';
import { KeyStore } from '../../src/auth/keys.js';
import { SqliteStorage } from '../../src/storage/sqlite/index.js';
import type { ClientRecord } from '../../src/storage/types.js';

describe('grant racing a revocation', () => {
  it('refuses when this instance learned of a newer client revocation than the record it read', async () => {
    const storage = new SqliteStorage(':memory:');
    await storage.migrate();
    const keys = new KeyStore(storage, 'ES256', undefined);
    await keys.init();
    const revocations = new RevocationList(storage);
    const deps = {
      keys,
      issuer: 'http://x',
      audiences: { data: 'http://x/', management: 'http://x/admin/' },
      ttl: { data: 60, management: 60 },
      revocations,
    };
    const now = Date.now();
    const client: ClientRecord = {
      clientId: 'c1',
      orgId: 'o1',
      name: 'c',
      rootScope: 'read-only',
      permissions: ['catalog:read'],
      isRoot: false,
      enabled: true,
      createdAt: now,
      updatedAt: now,
      createdBy: null,
      tokensRevokedAt: null,
      secrets: [],
    };
    assert.equal((await clientCredentialsGrant(client, {}, deps)).token_type, 'Bearer');
    // The disable commits while the grant is in flight: the record it holds predates it.
    revocations.apply({ kind: 'client', subject: 'c1', notBefore: now - 5000, expiresAt: now + 60_000, createdAt: now });
    await assert.rejects(clientCredentialsGrant(client, {}, deps), InvalidClient);
    // A record that already knows that revocation (re-enabled since) is served; its tokens are later than the revocation.
    const token = await clientCredentialsGrant({ ...client, tokensRevokedAt: now - 5000 }, {}, deps);
    assert.ok(token.access_token);
    await storage.close();
  });
});
