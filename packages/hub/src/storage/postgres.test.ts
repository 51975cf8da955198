import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DatabaseUnreachableError } from './errors.js';
import { migrations } from './migrations/index.js';
import { openStorage } from './open.js';
import { describeDatabaseUrl } from './postgres.js';
import { createTestDatabase, type TestDatabase } from './testing.js';

// PostgreSQL-only behaviour: reaching the server, never leaking the password, and hubs that
// start together on one database.

const SECRET = 'hunter2-Sup3r/s3cret';
const encoded = encodeURIComponent(SECRET);

async function expectUnreachable(databaseUrl: string, where: string, connectTimeoutMs?: number) {
  const started = Date.now();
  await assert.rejects(openStorage({ databaseUrl, connectTimeoutMs }), (error: unknown) => {
    assert.ok(error instanceof DatabaseUnreachableError, String(error));
    assert.equal(error.code, 'database_unreachable');
    assert.ok(error.message.includes(where), error.message);
    assert.ok(!error.message.includes(SECRET) && !error.message.includes(encoded), error.message);
    assert.ok(!error.message.includes('\n'), error.message);
    return true;
  });
  return Date.now() - started;
}

describe('postgres connection', () => {
  it('fails at open, fast and without the password, when nothing listens', async () => {
    const elapsed = await expectUnreachable(`postgres://flotilla:${encoded}@127.0.0.1:1/flotilla`, '127.0.0.1:1');
    assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
  });

  it('gives up after the connect timeout on a server that accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const elapsed = await expectUnreachable(
        `postgres://flotilla:${encoded}@127.0.0.1:${port}/flotilla`,
        `127.0.0.1:${port}`,
        300,
      );
      assert.ok(elapsed >= 250 && elapsed < 3_000, `took ${elapsed} ms`);
      assert.ok(sockets.length > 0, 'the driver never connected');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('names the missing database when the server answers but the database does not exist', async () => {
    await expectUnreachable(`postgres://postgres:${encoded}@127.0.0.1:5432/flotilla_missing_db`, 'does not exist');
  });

  it('refuses a DATABASE_URL that is not a postgres:// URL without echoing it', async () => {
    await expectUnreachable(`mysql://root:${encoded}@db/x`, 'unsupported scheme mysql:');
    await expectUnreachable(`not a url ${SECRET}`, 'not a valid postgres:// URL');
  });

  it('describes a URL for logs without its password or options', () => {
    assert.deepEqual(describeDatabaseUrl(`postgresql://ana:${encoded}@db.example:6543/fleet?sslmode=require`), {
      location: 'postgres://ana@db.example:6543/fleet',
      secrets: [encoded, SECRET],
    });
    assert.equal(
      describeDatabaseUrl('postgres:///fleet?host=/run/postgresql&user=ana').location,
      'postgres://ana@/fleet?host=/run/postgresql',
    );
  });
});

describe('postgres migrations', () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  it('lets two hubs starting together on an empty database both open it, migrating once', async () => {
    const [a, b] = await Promise.all([
      openStorage({ databaseUrl: database.url }),
      openStorage({ databaseUrl: database.url }),
    ]);
    try {
      await a.appendEvents([
        {
          id: 'e1',
          aggregateId: 'r1',
          type: 'DeviceRegistered',
          ts: 1,
          data: {},
          metadata: { actor: 'system', correlationId: null, causationId: null },
        },
      ]);
      assert.equal(await b.countEvents(), 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('select name from kysely_migration order by name');
      assert.deepEqual(
        rows.map((row) => row.name),
        Object.keys(migrations),
      );
    } finally {
      await client.end();
    }
  });
});
