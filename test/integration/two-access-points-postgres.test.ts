import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { randomPrefix, testRedis } from '../helpers/redis.js';
import { describeSmtpRelayBinding } from '../smtp/relay-binding-suite.js';
import { describeAcceptanceEvents } from './acceptance-events-suite.js';
import { describeTwoAccessPoints, type TwoAccessPointsMode } from './two-access-points-suite.js';

/**
 * The same end-to-end suite as the embedded default, on the production setup: PostgreSQL store (each
 * AP in a fresh schema qerds_it_<random>_c2/_c3, dropped afterwards) and BullMQ queues on Redis (a
 * random key prefix per AP, deleted afterwards). PostgreSQL and Redis are real dependencies: when
 * either is missing the tests FAIL with the reason.
 */
const postgresUrl = process.env.QERDS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemas: string[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
  const redis = await testRedis();
  for (const prefix of prefixes) redis.deletePrefix(prefix);
});

async function checkPostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${postgresUrl} (${(error as Error).message}). Start it, or point QERDS_TEST_PG_URL at a server the tests may create schemas in.`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresBullmq: TwoAccessPointsMode = {
  label: ' [PostgreSQL + BullMQ]',
  async overrides() {
    await checkPostgres();
    const redis = await testRedis();
    const run = randomBytes(4).toString('hex');
    return (name) => {
      const schema = `qerds_it_${run}_${name}`;
      const prefix = `${randomPrefix()}-${name}`;
      schemas.push(schema);
      prefixes.push(prefix);
      return {
        store: { kind: 'postgres', postgresUrl, postgresSchema: schema },
        // A short lease so that a job Redis lost comes back quickly; BullMQ's stalled check likewise.
        queue: { kind: 'bullmq', redisUrl: redis.url, prefix, leaseMs: 5000, stalledIntervalMs: 2000 },
      };
    };
  },
};

describeTwoAccessPoints(postgresBullmq);
describeAcceptanceEvents(postgresBullmq);
describeSmtpRelayBinding(postgresBullmq);
