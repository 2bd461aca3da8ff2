/** Management API: `GET /admin/audit` (admin:read) — the caller's organization's audit log, newest first. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, preValidationAsyncHookHandler } from 'fastify';
import type { Permission } from '../access/permissions.js';
import type { Storage } from '../storage/types.js';

const Query = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })), before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })) },
  { additionalProperties: false },
);

export async function auditRoutes(
  app: FastifyInstance,
  deps: { storage: Storage; guard: (p: Permission) => preValidationAsyncHookHandler },
): Promise<void> {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/admin/audit',
    {
      preValidation: deps.guard('admin:read'),
      onSend: async (_req, reply, payload) => (reply.header('cache-control', 'no-store'), payload),
      config: { errorStyle: 'management' },
      schema: { querystring: Query },
    },
    async (req) => {
      const limit = Math.min(Number(req.query.limit ?? 100), 500);
      const entries = await deps.storage.listAudit(req.principal!.orgId, limit, req.query.before);
      const last = entries.at(-1);
      return {
        entries: entries.map((e) => ({
          id: e.id,
          at: new Date(e.at).toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target,
          outcome: e.outcome,
          source_ip: e.sourceIp,
          details: e.details,
        })),
        links: entries.length === limit && last ? [{ rel: 'next', href: `/admin/audit?limit=${limit}&before=${last.id}` }] : [],
      };
    },
  );
}
