#!/usr/bin/env node
// The `skyport` binary: runs the compiled CLI. `npm ci` builds it (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('skyport is not built yet: run `npm ci` (or `npm run build`) in the project folder first.');
  process.exit(1);
}
await import(entry.href);
