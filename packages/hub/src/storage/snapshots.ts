import type { EngineConnection } from './engine.js';
import { guard } from './errors.js';
import type { Snapshot } from './types.js';

/** Projection snapshots: one row per name, replaced on every save. */
export class SnapshotStore {
  readonly #engine: EngineConnection;

  constructor(engine: EngineConnection) {
    this.#engine = engine;
  }

  async save<T>(snapshot: Snapshot<T>): Promise<void> {
    const state = JSON.stringify(snapshot.state) as string | undefined;
    if (state === undefined) throw new TypeError(`snapshot ${snapshot.name}: state is not JSON`);
    const row = { name: snapshot.name, position: snapshot.position, ts: snapshot.ts, state };
    await guard(`saving snapshot ${snapshot.name}`, () =>
      this.#engine.db
        .insertInto('snapshots')
        .values(row)
        .onConflict((oc) => oc.column('name').doUpdateSet({ position: row.position, ts: row.ts, state: row.state }))
        .execute(),
    );
  }

  async load<T>(name: string): Promise<Snapshot<T> | undefined> {
    const row = await guard(`loading snapshot ${name}`, () =>
      this.#engine.db.selectFrom('snapshots').selectAll().where('name', '=', name).executeTakeFirst(),
    );
    if (!row) return undefined;
    return {
      name: row.name,
      position: Number(row.position),
      ts: Number(row.ts),
      state: JSON.parse(row.state) as T,
    };
  }
}
