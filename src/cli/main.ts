/** The `skyport` command line: operator commands (this host's store) and customer commands (HTTP only, through the SDK). */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, PortInUse } from '../config.js';
import { EnvelopeError } from '../util/envelope.js';
import { catalogCommands } from './catalog.js';
import { taskingCommands } from './tasking.js';
import { CustomerError, customerCommands } from './customer.js';
import { operatorCommands, UsageError } from './operator.js';

// Everything Skyport writes (database, keys, credential files) is for this user only.
process.umask(0o077);

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('skyport')
  .version(pkg.version, '-V, --version', 'print the Skyport version')
  .description('Skyport: OAuth 2.0 authorization server, STAC catalog and tasking API for satellite data')
  .showHelpAfterError()
  .exitOverride();
operatorCommands(program);
catalogCommands(program);
taskingCommands(program);
customerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof CustomerError) {
    console.error(`skyport: ${e.message}`);
    process.exit(e.exitCode);
  }
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof EnvelopeError || e instanceof PortInUse) {
    console.error(`skyport: ${e.message}`);
    process.exit(2);
  }
  const err = e as Error & { code?: string };
  const db = process.env.DATABASE_URL ? new URL(process.env.DATABASE_URL).host : undefined;
  console.error(`skyport: ${err.code === 'ECONNREFUSED' && db ? `cannot reach the database at ${db} (${err.code})` : err.message}`);
  process.exit(1);
}
