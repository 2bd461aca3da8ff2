/**
 * A real S3-compatible server for tests: s3rver (the S3 REST API over a folder, in this process) on
 * a loopback port of its own, with one bucket, in a fresh temp dir. It accepts the access key id
 * `S3RVER` and, as its authors note, does not check SigV4 signatures; everything else (keys, ranges,
 * ETags, errors) goes over HTTP as with any S3 server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { S3Options } from '../../src/storage/assets/s3.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (opts: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** A secret no log or error may show (s3rver does not check it). */
  secret: string;
  /** Adapter options for this server, optionally with a key prefix. */
  options(prefix?: string): S3Options;
  /** The SKYPORT_* environment of a server using this bucket. */
  env(prefix?: string): Record<string, string>;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with an ephemeral port and the bucket `bucket`. */
export async function startS3(bucket = 'skyport-assets'): Promise<TestS3> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skyport-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const secret = `test-secret-${Math.random().toString(36).slice(2)}`;
  return {
    endpoint,
    bucket,
    secret,
    options: (prefix = '') => ({
      bucket,
      endpoint,
      region: 'us-east-1',
      prefix,
      accessKeyId: 'S3RVER',
      secretAccessKey: secret,
      pathStyle: true,
    }),
    env: (prefix = '') => ({
      SKYPORT_ASSETS_STORE: 's3',
      SKYPORT_S3_BUCKET: bucket,
      SKYPORT_S3_ENDPOINT: endpoint,
      SKYPORT_S3_REGION: 'us-east-1',
      SKYPORT_S3_PREFIX: prefix,
      SKYPORT_S3_ACCESS_KEY_ID: 'S3RVER',
      SKYPORT_S3_SECRET_ACCESS_KEY: secret,
    }),
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
