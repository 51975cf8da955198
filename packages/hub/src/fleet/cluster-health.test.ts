import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from '../gateway/testing.js';
import { TEST_START } from '../http/testing.js';
import { leaderAndFollower, openTestCluster, type ClusterHub, type TestCluster } from '../nats/testing.js';

const INTERVAL = 30_000;

/**
 * Fleet health with two hubs on NATS and one database: only the leader samples, so the series
 * has one sample per interval; when the leader goes, the hub that takes over samples at once.
 */
describe('fleet health with two hubs on NATS', () => {
  let cluster: TestCluster;
  let leader: ClusterHub;
  let follower: ClusterHub;

  before(async () => {
    cluster = await openTestCluster(2, { fleetHealth: { intervalMs: INTERVAL } });
    [leader, follower] = await leaderAndFollower(cluster);
  });
  after(() => cluster?.dispose());

  const samples = () => leader.storage.fleetHealth.range({ from: 0, to: TEST_START + 86_400_000, limit: 100 });

  test('only the leader samples; the next leader takes over', async () => {
    assert.equal(leader.fleetHealth.leading, true);
    assert.equal(follower.fleetHealth.leading, false);
    await leader.fleetHealth.idle();
    const before = (await samples()).length;
    for (let i = 1; i <= 3; i++) {
      for (const hub of [leader, follower]) hub.clock.advance(INTERVAL);
      await Promise.all([leader.fleetHealth.idle(), follower.fleetHealth.idle()]);
    }
    const after = await samples();
    assert.equal(after.length, before + 3, 'one sample per interval, from the leader alone');

    // Closing gives the leadership up at once; the follower's next beat takes it (a second later:
    // a sample at the very ms of the last one would be dropped as the same sample).
    await leader.close();
    follower.clock.advance(1000);
    await eventually(
      async () => {
        await follower.nats?.presence.heartbeat();
        return follower.nats?.presence.isLeader === true;
      },
      'the follower to lead',
      30_000,
    );
    assert.equal(follower.fleetHealth.leading, true);
    await follower.fleetHealth.idle();
    const taken = await follower.storage.fleetHealth.range({ from: 0, to: TEST_START + 86_400_000, limit: 100 });
    assert.equal(taken.length, after.length + 1, 'the new leader samples as it takes over');
  });
});
