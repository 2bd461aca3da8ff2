/**
 * Management API: an organization's API clients (audience `<base>/admin/`).
 *
 *   GET    /admin/clients                      admin:read   list the caller's organization's clients
 *   POST   /admin/clients                      admin:write  create; the secret is in this response only
 *   GET    /admin/clients/{client_id}          admin:read
 *   PATCH  /admin/clients/{client_id}          admin:write  name, permissions, enabled
 *   POST   /admin/clients/{client_id}/rotate-secret  admin:write  {grace_period_seconds}
 *   POST   /admin/clients/{client_id}/disable|enable admin:write
 *   POST   /admin/clients/{client_id}/revoke-tokens  admin:write
 *   DELETE /admin/clients/{client_id}          admin:write
 *
 * Isolation (invariant 2): another organization's client answers exactly as a missing one (404).
 * No self-escalation (invariant 3): a client cannot change its own permissions, enabled state or
 * existence; admin permissions are delegated, never minted (a caller grants, and reaches, only
 * admin clients whose permissions it holds itself); root credentials are renamed, rotated or
 * revoked only by the organization's admin root credential and disabled only by the operator.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROOT_SCOPE_CEILING, ROOT_SCOPES, type ClientScope, type Permission } from '../access/permissions.js';
import type { Principal } from '../access/verifier.js';
import { Value } from '@sinclair/typebox/value';
import { HttpProblem, badRequest, forbidden, notFound } from '../http/errors.js';
import type { ClientRecord } from '../storage/types.js';
import {
  checkPermissions,
  clientView,
  createClient,
  deleteClient,
  revokeClientTokens,
  rotateSecret,
  setEnabled,
  type AdminDeps,
} from './service.js';
import type { preValidationAsyncHookHandler } from 'fastify';

/** A display name: printable text; no control, format (bidi overrides), separator-line or lone-surrogate characters. */
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}]+$' });
const PermissionList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 16 });
const CreateBody = Type.Object(
  {
    name: Name,
    // One enum (not a union of literals): a wrong value gets one readable error instead of one per literal.
    root_scope: Type.Unsafe<(typeof ROOT_SCOPES)[number]>({ type: 'string', enum: [...ROOT_SCOPES], description: ROOT_SCOPES.join(', ') }),
    permissions: Type.Optional(PermissionList),
  },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    permissions: Type.Optional(PermissionList),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
const RotateBody = Type.Object(
  { grace_period_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86400 })) },
  { additionalProperties: false },
);
// Client ids are URL-safe by construction; anything else cannot name a client (and never reaches storage).
const IdParams = Type.Object({ client_id: Type.String({ pattern: '^[A-Za-z0-9._~-]{1,128}$' }) });

type Guard = (permission: Permission) => preValidationAsyncHookHandler;
type IdReq = FastifyRequest<{ Params: Static<typeof IdParams> }>;

export async function clientRoutes(app: FastifyInstance, deps: AdminDeps & { guard: Guard }): Promise<void> {
  // Management responses describe credentials: never cached by anything between here and the caller.
  const noStore = async (_req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.header('cache-control', 'no-store');
    return payload;
  };
  const read = { preValidation: deps.guard('admin:read'), onSend: noStore, config: { errorStyle: 'management' as const } };
  const write = { preValidation: deps.guard('admin:write'), onSend: noStore, config: { errorStyle: 'management' as const } };

  const audit = (
    req: FastifyRequest,
    action: string,
    target: string | null,
    outcome: 'success' | 'failure',
    details: Record<string, unknown> = {},
  ) =>
    deps.storage.appendAudit({
      at: Date.now(),
      orgId: req.principal!.orgId,
      actor: req.principal!.clientId,
      action,
      target,
      outcome,
      sourceIp: req.ip,
      details,
    });

  /** The target client if it belongs to the caller's organization; 404 otherwise (isolation). */
  const own = async (req: IdReq): Promise<ClientRecord> => {
    const c = await deps.storage.getClient(req.params.client_id);
    if (!c || c.orgId !== req.principal!.orgId) throw notFound('client');
    return c;
  };

  /** Runs a write, auditing it as success or (for refusals) failure. */
  const audited = async <T>(
    req: FastifyRequest,
    action: string,
    target: string | null | ((out: T) => string),
    fn: () => Promise<T>,
    details: Record<string, unknown> = {},
  ): Promise<T> => {
    let out: T;
    try {
      out = await fn();
    } catch (e) {
      // Only our own refusals are worth recording verbatim; anything else may carry a driver's internals.
      const reason = e instanceof HttpProblem ? e.description : 'internal error';
      await audit(req, action, typeof target === 'function' ? null : target, 'failure', { ...details, reason }).catch(() => {});
      throw e;
    }
    // The action is done: a failing audit write must not turn it into a 500 (a new secret would be lost).
    await audit(req, action, typeof target === 'function' ? target(out) : target, 'success', details).catch((e: Error) =>
      req.log.error({ errMessage: e.message, action }, 'audit write failed after a completed admin action'),
    );
    return out;
  };

  /** Invariant 3: no client changes its own standing; root credentials are the operator's to change. */
  const noSelfOrRoot = (p: Principal, c: ClientRecord, verb: string, participle: string) => {
    if (c.clientId === p.clientId) throw forbidden(`a client cannot ${verb} itself`);
    if (c.isRoot) throw forbidden(`root credentials cannot be ${participle} through the API; the operator manages them`);
  };

  /** Root credentials are touched (renamed, revoked, rotated) only by the organization's admin root credential. */
  const rootOnlyByAdminRoot = async (p: Principal, c: ClientRecord) => {
    if (c.isRoot && !(await isAdminRoot(p))) throw forbidden('only the admin root credential may change root credentials');
  };

  /**
   * Admin permissions are delegated, never minted: an admin-scope client created or changed by `p`
   * gets only permissions `p` holds itself, so write-only cannot create read+write and climb through it.
   */
  const noDelegationAbove = (p: Principal, rootScope: ClientScope, permissions: readonly string[] | undefined) => {
    if (rootScope !== 'admin') return;
    // Unknown names and names outside the root scope get their own, clearer errors first.
    const wanted = checkPermissions(rootScope, permissions ?? ROOT_SCOPE_CEILING.admin);
    const missing = wanted.filter((x) => !p.permissions.has(x as Permission));
    if (missing.length) throw forbidden(`a client can only delegate admin permissions it holds; missing ${missing.join(', ')}`);
  };

  /**
   * Invariant 3 for existing clients: an admin-scope client holding admin permissions the caller
   * lacks is out of the caller's reach (else write-only could rotate a read+write client's secret
   * and become it).
   */
  const manageable = (p: Principal, c: ClientRecord) => {
    const above = c.rootScope === 'admin' ? c.permissions.filter((x) => !p.permissions.has(x)) : [];
    if (above.length) throw forbidden(`this client holds admin permissions you lack (${above.join(', ')})`);
  };

  /** Write responses show the record only to callers that may read it. */
  const viewFor = (p: Principal, c: ClientRecord) => (p.permissions.has('admin:read') ? clientView(c) : { client_id: c.clientId });

  app.get('/admin/clients', read, async (req) => ({
    clients: (await deps.storage.listClients(req.principal!.orgId)).map((c) => clientView(c)),
  }));

  app.post<{ Body: Static<typeof CreateBody> }>('/admin/clients', { ...write, schema: { body: CreateBody } }, async (req, reply) => {
    const b = req.body;
    const { client, secret } = await audited(
      req,
      'client.create',
      (out) => out.client.clientId,
      async () => {
        noDelegationAbove(req.principal!, b.root_scope, b.permissions);
        return createClient(deps, {
          orgId: req.principal!.orgId,
          name: b.name,
          rootScope: b.root_scope,
          permissions: b.permissions,
          createdBy: req.principal!.clientId,
        });
      },
      { root_scope: b.root_scope, permissions: b.permissions ?? 'all' },
    );
    reply.code(201).header('location', `/admin/clients/${client.clientId}`).header('cache-control', 'no-store');
    return { ...clientView(client), client_secret: secret };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/admin/clients/:client_id', { ...read, schema: { params: IdParams } }, async (req) =>
    clientView(await own(req)),
  );

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchBody> }>(
    '/admin/clients/:client_id',
    { ...write, schema: { params: IdParams, body: PatchBody } },
    async (req) => {
      const c = await own(req);
      const b = req.body;
      return audited(
        req,
        'client.update',
        c.clientId,
        async () => {
          manageable(req.principal!, c);
          await rootOnlyByAdminRoot(req.principal!, c);
          if (b.permissions !== undefined) noSelfOrRoot(req.principal!, c, 'change the permissions of', 'given other permissions');
          if (b.permissions !== undefined) noDelegationAbove(req.principal!, c.rootScope, b.permissions);
          if (b.enabled !== undefined && b.enabled !== c.enabled)
            noSelfOrRoot(req.principal!, c, b.enabled ? 'enable' : 'disable', b.enabled ? 'enabled' : 'disabled');
          const permissions = b.permissions === undefined ? undefined : checkPermissions(c.rootScope, b.permissions);
          const now = Date.now();
          let updated = await deps.storage.updateClient(c.clientId, { name: b.name, permissions }, now);
          if (b.enabled !== undefined) updated = await setEnabled(deps, c.clientId, b.enabled, now);
          // Narrowed permissions apply to new tokens at once and to live ones through revocation.
          if (permissions && c.permissions.some((p) => !permissions.includes(p))) {
            await revokeClientTokens(deps, c.clientId, now);
          }
          return viewFor(req.principal!, updated ?? c);
        },
        { changed: Object.keys(b) },
      );
    },
  );

  for (const enabled of [false, true]) {
    app.post<{ Params: Static<typeof IdParams> }>(
      `/admin/clients/:client_id/${enabled ? 'enable' : 'disable'}`,
      { ...write, schema: { params: IdParams } },
      async (req) => {
        const c = await own(req);
        return audited(req, enabled ? 'client.enable' : 'client.disable', c.clientId, async () => {
          manageable(req.principal!, c);
          noSelfOrRoot(req.principal!, c, enabled ? 'enable' : 'disable', enabled ? 'enabled' : 'disabled');
          return viewFor(req.principal!, (await setEnabled(deps, c.clientId, enabled)) ?? c);
        });
      },
    );
  }

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RotateBody> }>(
    '/admin/clients/:client_id/rotate-secret',
    { ...write, schema: { params: IdParams } },
    async (req, reply) => {
      // The body is optional (no body: no grace period), which a route body schema cannot express.
      const body: unknown = req.body ?? {};
      if (!Value.Check(RotateBody, body)) throw badRequest('body must be {"grace_period_seconds": 0..604800}');
      const c = await own(req);
      const grace = body.grace_period_seconds ?? 0;
      const out = await audited(
        req,
        'client.rotate_secret',
        c.clientId,
        async () => {
          manageable(req.principal!, c);
          if (c.isRoot && !(await isAdminRoot(req.principal!))) {
            throw forbidden('only the admin root credential may rotate the secrets of root credentials');
          }
          const r = await rotateSecret(deps, c.clientId, grace);
          if (!r) throw notFound('client');
          return r;
        },
        { grace_period_seconds: grace },
      );
      reply.header('cache-control', 'no-store');
      return {
        client_id: c.clientId,
        client_secret: out.secret,
        previous_secret_expires_at: out.previousExpiresAt === null ? null : new Date(out.previousExpiresAt).toISOString(),
      };
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/admin/clients/:client_id/revoke-tokens',
    { ...write, schema: { params: IdParams } },
    async (req, reply) => {
      const c = await own(req);
      await audited(req, 'client.revoke_tokens', c.clientId, async () => {
        manageable(req.principal!, c);
        await rootOnlyByAdminRoot(req.principal!, c);
        await revokeClientTokens(deps, c.clientId);
      });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Static<typeof IdParams> }>(
    '/admin/clients/:client_id',
    { ...write, schema: { params: IdParams } },
    async (req, reply) => {
      const c = await own(req);
      await audited(req, 'client.delete', c.clientId, async () => {
        manageable(req.principal!, c);
        noSelfOrRoot(req.principal!, c, 'delete', 'deleted');
        await deleteClient(deps, c.clientId);
      });
      return reply.code(204).send();
    },
  );

  /** True when the principal is its organization's admin root credential. */
  async function isAdminRoot(p: Principal): Promise<boolean> {
    const me = await deps.storage.getClient(p.clientId);
    return me !== undefined && me.isRoot && me.rootScope === 'admin';
  }
}
