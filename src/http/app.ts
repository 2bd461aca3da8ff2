/**
 * The HTTP app factory: fastify with Skyport's logging rules (no secrets, tokens or query strings
 * in log lines) and the one mapping from error classes to HTTP responses.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { OAuthError } from '../auth/errors.js';
import { HttpProblem, type ErrorStyle } from './errors.js';
import { QueryError } from '../storage/types.js';
import { GeometryError } from '../catalog/geometry.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorStyle?: ErrorStyle;
  }
}

export interface AppOptions {
  logLevel: string;
  trustProxy: boolean | string[];
  /** A pino destination for tests; stdout when absent. */
  logStream?: NodeJS.WritableStream;
}

/**
 * The path for logs: no query string or `;` parameters (they may carry anything, tokens included),
 * and anything shaped like a Skyport secret or a JWT masked, should a caller put one in the path.
 */
function pathOnly(url: string): string {
  const cut = url.search(/[?;]/);
  const p = cut < 0 ? url : url.slice(0, cut);
  return p.replace(/sks_[A-Za-z0-9]+|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?/g, '[redacted]');
}

function styleOf(req: FastifyRequest): ErrorStyle {
  const configured = req.routeOptions?.config?.errorStyle;
  if (configured) return configured;
  const p = pathOnly(req.url);
  if (p.startsWith('/oauth')) return 'oauth';
  if (p.startsWith('/admin')) return 'management';
  return 'data';
}

/** Sends a non-OAuth error in the body shape of the API the route belongs to. */
export function sendProblem(reply: FastifyReply, style: ErrorStyle, status: number, code: string, description: string): FastifyReply {
  if (style === 'oauth') {
    return reply.code(status).type('application/json').send({ error: code, error_description: description });
  }
  if (style === 'management') {
    return reply
      .code(status)
      .type('application/problem+json')
      .send({ type: 'about:blank', title: code, status, detail: description, code });
  }
  return reply.code(status).type('application/json').send({ code, description });
}

/** Generic, content-free descriptions for fastify's own client errors (their messages may quote the body). */
function frameworkClientError(err: FastifyError): { status: number; description: string } | undefined {
  const status = err.statusCode ?? 500;
  if (status < 400 || status >= 500) return undefined;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, description: 'the request body is too large' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, description: 'unsupported Content-Type' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, description: 'the JSON body is empty' };
    case 'FST_ERR_VALIDATION':
      return { status: 400, description: err.message };
    default:
      return { status, description: status === 400 ? 'the request body could not be parsed' : 'the request could not be processed' };
  }
}

/** Creates the fastify instance with logging and error mapping; routes are added by the caller. */
export function createApp(opts: AppOptions): FastifyInstance {
  const app = Fastify({
    trustProxy: opts.trustProxy,
    // One line per request is noise at info level under load; on at debug.
    logController: new LogController({ disableRequestLogging: opts.logLevel !== 'debug' && opts.logLevel !== 'trace' }),
    logger: {
      level: opts.logLevel,
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, path: pathOnly(req.url), remoteAddress: req.ip }),
      },
    },
    // Tokens and secrets arrive in headers and bodies; a stray 100 kB header is someone's mistake.
    // A path parameter may be an item id of up to 512 characters (ingest's limit), percent-encoded: up to 9 URL
    // characters each (a 3-byte UTF-8 character), so 4,608; the router's limit stays a bound, not a guess.
    routerOptions: { maxParamLength: 8192 },
    bodyLimit: 1024 * 1024,
    // Requests the router itself rejects (a malformed percent-encoding) get the same error bodies as the rest.
    frameworkErrors: (err, req, reply) => {
      const style = styleOf(req);
      return sendProblem(reply, style, 400, style === 'oauth' ? 'invalid_request' : 'BadRequest', 'malformed URL');
    },
    // A typo in a request field is an error the caller should see, not a value silently dropped or coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const style = styleOf(req);
    if (err instanceof OAuthError) {
      return reply.code(err.status).headers(err.headers).type('application/json').send(err.toJSON());
    }
    if (err instanceof HttpProblem) {
      reply.headers(err.headers);
      return sendProblem(reply, style, err.status, err.code, err.description);
    }
    // The catalog's query and geometry errors are the client's: a filter or geometry the store cannot evaluate.
    if (err instanceof QueryError || err instanceof GeometryError) return sendProblem(reply, style, 400, 'BadRequest', err.message);
    const client = frameworkClientError(err);
    if (client) {
      // At the token endpoint every client mistake is an RFC 6749 error; an oversized body keeps its 413.
      if (style === 'oauth') return sendProblem(reply, style, client.status === 413 ? 413 : 400, 'invalid_request', client.description);
      return sendProblem(reply, style, client.status, client.status === 413 ? 'PayloadTooLarge' : 'BadRequest', client.description);
    }
    // Server fault: log what and where, never the request body; stack only at debug level.
    req.log.error(
      {
        errName: err.name,
        errCode: err.code,
        errMessage: err.message,
        ...(['debug', 'trace'].includes(req.log.level) ? { stack: err.stack } : {}),
      },
      'internal error',
    );
    return sendProblem(reply, style, 500, style === 'oauth' ? 'server_error' : 'InternalServerError', 'internal error');
  });

  app.setNotFoundHandler((req, reply) => {
    const style = styleOf(req);
    return sendProblem(
      reply,
      style,
      404,
      style === 'oauth' ? 'invalid_request' : 'NotFound',
      `no resource at ${req.method} ${pathOnly(req.url).slice(0, 200)}`,
    );
  });

  return app;
}
