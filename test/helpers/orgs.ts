/**
 * Test organizations: a second (third, …) organization created in-process on a test server's store,
 * exactly as the operator CLI would, with its three root credentials returned once.
 */
import type { RootScope } from '../../src/access/permissions.js';
import { createOrganization, type IssuedCredential } from '../../src/admin/service.js';
import type { TestServer } from './server.js';

export interface TestOrg {
  id: string;
  name: string;
  creds: Record<RootScope, IssuedCredential>;
}

let seq = 0;

/** Creates an organization (unique name derived from `name`) with its three root credentials. */
export async function createOrg(s: TestServer, name = 'other'): Promise<TestOrg> {
  const unique = `${name}-${process.pid}-${++seq}-${Date.now().toString(36)}`;
  const { org, credentials } = await createOrganization({ storage: s.skyport.storage, hasher: s.skyport.hasher }, unique);
  return { id: org.id, name: org.name, creds: credentials };
}
