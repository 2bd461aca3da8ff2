/** One transaction on a pooled connection, for every PostgreSQL write that spans statements. */
import type pg from 'pg';

/**
 * Runs `fn` between BEGIN and COMMIT on a connection of `pool`; rolls back and rethrows when it throws. A
 * connection that cannot even roll back (cut mid-COPY, say) is closed, not handed to the next caller.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch((r: Error) => (broken = r));
    throw e;
  } finally {
    c.release(broken);
  }
}
