import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Engine, OpenStorageOptions } from './types.js';

/**
 * Test helpers for code that stores things: a private PostgreSQL database per test (or file),
 * and storage options for either engine. Used by tests only; nothing here runs in a hub.
 */

/** Admin connection used to create and drop test databases. */
export const TEST_ADMIN_URL =
  process.env['FLOTILLA_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops the database, disconnecting whoever still uses it. */
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `flotilla_t_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface TestTarget {
  /** Options that open the same, initially empty, store every time. */
  options: OpenStorageOptions;
  /** Removes the directory or drops the database. */
  cleanup(): Promise<void>;
}

/** A fresh, empty place to open storage on the given engine. */
export async function createTestTarget(engine: Engine): Promise<TestTarget> {
  if (engine === 'postgres') {
    const database = await createTestDatabase();
    return { options: { databaseUrl: database.url }, cleanup: () => database.drop() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-storage-'));
  return {
    options: { dataDir },
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];
