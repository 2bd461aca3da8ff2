/**
 * Webhooks of order status changes (Skyport extension, tasking-notes §2 item 4), signed per the
 * Standard Webhooks specification (https://www.standardwebhooks.com, the `standardwebhooks` package):
 * headers `webhook-id` (the message id, the same on every attempt), `webhook-timestamp` (seconds, fresh
 * on every attempt) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`, keyed
 * with the base64-decoded bytes of the `whsec_` secret; field pitfall T09).
 *
 * Management API (audience `<base>/admin/`, problem+json errors):
 *
 *   GET    /admin/webhooks              admin:read   the organization's webhooks (never their secrets)
 *   POST   /admin/webhooks              admin:write  {url, events?} → 201; the secret is in this response only
 *   GET    /admin/webhooks/{id}         admin:read
 *   DELETE /admin/webhooks/{id}         admin:write  → 204 (pending deliveries to it then fail)
 *   GET    /admin/webhooks/deliveries   admin:read   the delivery log, newest first (`?limit`, ≤ 200)
 *
 * Deliveries are enqueued in the transaction of the status change they announce (storage
 * `transitionOrder` extras) and sent by `WebhookDispatcher`: POST, 10 s timeout, redirects not followed,
 * 2xx = delivered; otherwise retried after 5 s, 30 s, 2 min, 10 min and 1 h, then `failed`.
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { LeasedLoop } from './leased-loop.js';
import type { Permission } from '../access/permissions.js';
import { badRequest, notFound } from '../http/errors.js';
import type { Storage } from '../storage/types.js';
import type { WebhookDeliveryRecord, WebhookRecord } from '../storage/tasking.js';
import { open, seal } from '../util/envelope.js';

/** The one event type: an order's status changed (payload `{type, timestamp, data: {order_id, status, …}}`). */
export const ORDER_STATUS_EVENT = 'order.status';
export const WEBHOOK_EVENTS: readonly string[] = [ORDER_STATUS_EVENT];

/** Waits before the 2nd, 3rd, … attempt, ms; after the last one fails the delivery is `failed`. */
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000];

/** A new signing secret: `whsec_` + base64 of 24 random bytes (Standard Webhooks §Signature scheme). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The deliveries announcing one event to every enabled webhook of `orgId` subscribed to `eventType`
 * (state `pending`, due at `now`, a fresh `msg_` id each). Empty when the organization has none.
 */
export async function deliveriesFor(
  storage: Storage,
  orgId: string,
  eventType: string,
  payload: Record<string, unknown>,
  now: number,
): Promise<WebhookDeliveryRecord[]> {
  const hooks = (await storage.listWebhooksFor(orgId)).filter((w) => w.enabled && w.events.includes(eventType));
  return hooks.map((w) => ({
    id: randomUUID(),
    webhookId: w.id,
    orgId,
    messageId: `msg_${randomBytes(16).toString('base64url')}`,
    eventType,
    payload,
    state: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    lastStatus: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
  }));
}

/** A webhook as the Management API shows it (no secret). */
export function webhookView(w: WebhookRecord): Record<string, unknown> {
  return { id: w.id, url: w.url, events: w.events, enabled: w.enabled, created_at: new Date(w.createdAt).toISOString() };
}

/** A delivery-log entry as the Management API shows it. */
export function deliveryView(d: WebhookDeliveryRecord): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: d.id,
    webhook_id: d.webhookId,
    message_id: d.messageId,
    event_type: d.eventType,
    state: d.state,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    payload: d.payload,
  };
}

/**
 * A webhook URL: absolute http(s), no credentials, no fragment, ≤ 2048 characters.
 * Throws HttpProblem 400 with the reason otherwise.
 */
/**
 * Addresses a webhook may not reach unless the operator allows private targets: loopback, private,
 * link-local (cloud metadata 169.254.169.254), CGNAT, unspecified, multicast, ULA and IPv4-mapped forms.
 */
const BLOCKED = (() => {
  const b = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const)
    b.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ] as const)
    b.addSubnet(net, bits, 'ipv6');
  return b;
})();

/** True when an IP address (v4 or v6, IPv4-mapped included) lies in a blocked range. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
  return isIP(address) === 6 ? BLOCKED.check(address, 'ipv6') : BLOCKED.check(address, 'ipv4');
}

/**
 * Resolves a webhook URL's host and refuses private targets (SSRF), unless `allowPrivate`; checked at
 * registration and again before every send (a name may resolve elsewhere later). Throws badRequest.
 */
export async function checkWebhookTarget(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    // A name that does not resolve now cannot be judged: it is checked again before every send, when
    // it must resolve to a public address (and a send to a name that does not resolve fails anyway).
    return;
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress))
    throw badRequest('url: private, loopback and link-local addresses are not allowed');
}

export function checkWebhookUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw badRequest('url must be an absolute http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest('url must use http or https');
  if (u.username || u.password) throw badRequest('url must not carry credentials; verify the signature instead');
  if (u.hash) throw badRequest('url must not have a fragment');
  return u.toString();
}

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 8, uniqueItems: true })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });
const LogQuery = Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }, { additionalProperties: false });

/** What the webhook routes need; `guard` is the Management API bearer guard. */
export interface WebhookRouteDeps {
  storage: Storage;
  /** SKYPORT_ENCRYPTION_KEY: secrets are sealed at rest with it when set. */
  encryptionKey: Buffer | undefined;
  guard: (p: Permission) => preValidationAsyncHookHandler;
  now?: () => number;
  /** SKYPORT_WEBHOOK_ALLOW_PRIVATE: let webhooks reach private and loopback addresses (development, tests). */
  allowPrivate?: boolean;
}

/** Registers the Management API webhook routes (module comment). Errors are problem+json (`errorStyle: 'management'`). */
export async function webhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const noStore = async (_req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.header('cache-control', 'no-store');
    return payload;
  };
  const read = { preValidation: deps.guard('admin:read'), onSend: noStore, config: { errorStyle: 'management' as const } };
  const write = { preValidation: deps.guard('admin:write'), onSend: noStore, config: { errorStyle: 'management' as const } };
  const audit = (req: FastifyRequest, action: string, target: string, details: Record<string, unknown>) =>
    deps.storage
      .appendAudit({
        at: now(),
        orgId: req.principal!.orgId,
        actor: req.principal!.clientId,
        action,
        target,
        outcome: 'success',
        sourceIp: req.ip,
        details,
      })
      .catch((e: Error) => req.log.error({ errMessage: e.message, action }, 'audit write failed after a webhook change'));

  app.get('/admin/webhooks', read, async (req) => ({
    webhooks: (await deps.storage.listWebhooksFor(req.principal!.orgId)).map(webhookView),
  }));

  app.post<{ Body: Static<typeof CreateBody> }>('/admin/webhooks', { ...write, schema: { body: CreateBody } }, async (req, reply) => {
    const url = checkWebhookUrl(req.body.url);
    await checkWebhookTarget(url, deps.allowPrivate ?? false);
    const events = req.body.events ?? [ORDER_STATUS_EVENT];
    const unknown = events.filter((e) => !WEBHOOK_EVENTS.includes(e));
    if (unknown.length) throw badRequest(`unknown event type(s) ${unknown.join(', ')}; known: ${WEBHOOK_EVENTS.join(', ')}`);
    const secret = generateWebhookSecret();
    const hook: WebhookRecord = {
      id: `wh_${randomBytes(12).toString('base64url')}`,
      orgId: req.principal!.orgId,
      url,
      secret: seal(secret, deps.encryptionKey),
      events,
      enabled: true,
      createdAt: now(),
    };
    await deps.storage.createWebhook(hook);
    await audit(req, 'webhook.create', hook.id, { url, events });
    reply.code(201).header('location', `/admin/webhooks/${hook.id}`);
    return { ...webhookView(hook), secret };
  });

  app.get<{ Querystring: Static<typeof LogQuery> }>(
    '/admin/webhooks/deliveries',
    { ...read, schema: { querystring: LogQuery } },
    async (req) => {
      const limit = Math.min(200, Math.max(1, Number(req.query.limit ?? 50)));
      return { deliveries: (await deps.storage.listDeliveriesFor(req.principal!.orgId, limit)).map(deliveryView) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>('/admin/webhooks/:id', { ...read, schema: { params: IdParams } }, async (req) => {
    const hook = (await deps.storage.listWebhooksFor(req.principal!.orgId)).find((w) => w.id === req.params.id);
    if (!hook) throw notFound('webhook');
    return webhookView(hook);
  });

  app.delete<{ Params: Static<typeof IdParams> }>('/admin/webhooks/:id', { ...write, schema: { params: IdParams } }, async (req, reply) => {
    if (!(await deps.storage.deleteWebhookFor(req.principal!.orgId, req.params.id))) throw notFound('webhook');
    await audit(req, 'webhook.delete', req.params.id, {});
    return reply.code(204).send();
  });
}

/** Minimal logger the background workers write to (fastify's logger fits). */
export interface WorkerLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Configuration of a `WebhookDispatcher` (times in ms). */
/** How long a delivery in flight is hidden from other ticks, ms (longer than a send's timeout). */
const CLAIM_MS = 60_000;
/** Most deliveries of one organization per tick: one organization's backlog never starves the others. */
const PER_ORG_PER_TICK = 10;

/** Up to `n` deliveries, taken round-robin across organizations (oldest first within each), at most `perOrg` each. */
export function fairShare(due: WebhookDeliveryRecord[], n: number, perOrg: number): WebhookDeliveryRecord[] {
  const byOrg = new Map<string, WebhookDeliveryRecord[]>();
  for (const d of due) byOrg.set(d.orgId, [...(byOrg.get(d.orgId) ?? []), d]);
  const out: WebhookDeliveryRecord[] = [];
  for (let round = 0; round < perOrg && out.length < n; round++) {
    let any = false;
    for (const list of byOrg.values()) {
      const d = list[round];
      if (d && out.length < n) {
        out.push(d);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

export interface DispatcherOptions {
  storage: Storage;
  encryptionKey: Buffer | undefined;
  /** Pause between ticks, ms. */
  tickMs: number;
  /** Lease lifetime, ms: longer than a tick can take (timeout + margin). */
  leaseMs: number;
  /** This process's lease holder name (default: a random id). */
  instanceId?: string;
  /** Per-attempt timeout, ms (default 10 s). */
  timeoutMs?: number;
  /** Waits before attempts 2, 3, …, ms (default RETRY_DELAYS_MS). */
  retryDelaysMs?: readonly number[];
  /** Wall clock, ms; also the signature timestamp (default Date.now). */
  clock?: () => number;
  /** Let deliveries reach private and loopback addresses (SKYPORT_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate?: boolean;
  /** Deliveries sent per tick (default 50), at most 8 at a time. */
  batch?: number;
  log?: WorkerLog;
}

/** What one dispatcher tick did. */
export interface DispatchResult {
  /** False when another process holds the lease (nothing was sent). */
  leader: boolean;
  delivered: number;
  retried: number;
  failed: number;
}

/**
 * Sends due webhook deliveries (module comment for the protocol). One process at a time across a
 * shared store (lease `webhooks`); at-least-once: a crash mid-send resends later with the same message
 * id, which receivers use to de-duplicate.
 */
export class WebhookDispatcher extends LeasedLoop {
  constructor(private readonly opts: DispatcherOptions) {
    super('webhooks', opts);
  }

  /** Sends the deliveries due at `now` if this process holds (or takes) the lease. */
  async tick(now = this.clock()): Promise<DispatchResult> {
    const { storage } = this.opts;
    const result: DispatchResult = { leader: false, delivered: 0, retried: 0, failed: 0 };
    if (!(await storage.acquireLease('webhooks', this.instanceId, this.opts.leaseMs, now))) return result;
    result.leader = true;
    const batch = this.opts.batch ?? 50;
    const due = fairShare(await storage.listDueDeliveries(now, batch * 4), batch, PER_ORG_PER_TICK);
    // Each organization's webhooks are read once per tick, shared by the workers.
    const orgHooks = new Map<string, Promise<WebhookRecord[]>>();
    const queue = [...due];
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        // Renew the lease before each send (a slow endpoint must not let a second dispatcher in) and claim
        // the delivery, so that no other tick lists it while it is in flight.
        if (!(await storage.acquireLease('webhooks', this.instanceId, this.opts.leaseMs, this.clock()))) return;
        await storage.updateDelivery(d.id, { nextAttemptAt: now + CLAIM_MS }, now);
        let list = orgHooks.get(d.orgId);
        if (!list) orgHooks.set(d.orgId, (list = storage.listWebhooksFor(d.orgId)));
        const hook = (await list).find((w) => w.id === d.webhookId);
        const outcome = await this.attempt(d, hook, now);
        result[outcome]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return result;
  }

  /** One attempt of one delivery; records the outcome. */
  private async attempt(
    d: WebhookDeliveryRecord,
    hook: WebhookRecord | undefined,
    now: number,
  ): Promise<'delivered' | 'retried' | 'failed'> {
    const { storage } = this.opts;
    if (!hook || !hook.enabled) {
      await storage.updateDelivery(d.id, { state: 'failed', nextAttemptAt: null, lastError: 'the webhook was deleted or disabled' }, now);
      return 'failed';
    }
    const attempts = d.attempts + 1;
    const { status, error } = await this.send(hook, d, now);
    if (status !== null && status >= 200 && status < 300) {
      await storage.updateDelivery(d.id, { state: 'delivered', attempts, nextAttemptAt: null, lastStatus: status, lastError: null }, now);
      return 'delivered';
    }
    const delays = this.opts.retryDelaysMs ?? RETRY_DELAYS_MS;
    const delay = delays[attempts - 1];
    const lastError = error ?? `HTTP ${status}`;
    if (delay === undefined) {
      await storage.updateDelivery(d.id, { state: 'failed', attempts, nextAttemptAt: null, lastStatus: status, lastError }, now);
      return 'failed';
    }
    await storage.updateDelivery(d.id, { attempts, nextAttemptAt: now + delay, lastStatus: status, lastError }, now);
    return 'retried';
  }

  /** POSTs the signed payload; the status, or null with an error text when no response came. */
  private async send(hook: WebhookRecord, d: WebhookDeliveryRecord, now: number): Promise<{ status: number | null; error: string | null }> {
    let body: string;
    let signature: string;
    try {
      body = JSON.stringify(d.payload);
      // A fresh timestamp on every attempt; the message id stays (Standard Webhooks, pitfall T09).
      signature = new Webhook(open(hook.secret, this.opts.encryptionKey)).sign(d.messageId, new Date(now), body);
    } catch (e) {
      return { status: null, error: `cannot sign: ${(e as Error).message}` };
    }
    try {
      await checkWebhookTarget(hook.url, this.opts.allowPrivate ?? false);
    } catch {
      return { status: null, error: 'the target address is not allowed' };
    }
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Skyport-Webhooks/1',
          'webhook-id': d.messageId,
          'webhook-timestamp': String(Math.floor(now / 1000)),
          'webhook-signature': signature,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
      await res.body?.cancel().catch(() => {});
      return {
        status: res.status,
        // The delivery log shows the status, never where a redirect pointed (no oracle into other networks).
        error: res.status >= 300 && res.status < 400 ? 'redirect not followed' : null,
      };
    } catch (e) {
      const err = e as Error;
      return { status: null, error: err.name === 'TimeoutError' ? 'no response: timed out' : 'no response' };
    }
  }
}
