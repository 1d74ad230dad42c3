// A MessagePack-RPC client users already have: the npm package msgpack-rpc-lite
// (msgpack-lite codec, positional parameters, notifications) against the real
// daemon. Its requests carry [params] and it sends notifications with no reply
// expected: the daemon must answer requests, ignore notifications and keep the
// connection, in default and in msgpack-lite's compatibility (raw) mode.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import rpc from 'msgpack-rpc-lite';
import { startDaemon } from '../test-support/daemon.js';

const T = { timeout: 20000 };
let daemon;
before(async () => { daemon = await startDaemon(); });
after(() => daemon?.stop());

for (const raw of [false, true]) {
  test(`msgpack-rpc-lite session${raw ? ' (compatibility mode)' : ''}`, T, async () => {
    const [host, port] = daemon.tcp.split(':');
    const codec = raw ? { encode: { useraw: true }, decode: { useraw: true } } : {};
    const client = rpc.createClient(Number(port), host, 0, codec);
    try {
      await client.notify('nvim_set_client_info', 'client', {});
      await client.notify('no.such.method');
      const [info] = await client.request('server.info', {});
      assert.equal(info.protocol, 1);
      assert.ok(info.methods.map(String).includes('problem.solve')); // raw mode: strings come back as Buffers
      const [mesh] = await client.request('mesh.create', {
        V: [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], F: [[0, 1, 2], [0, 2, 3]],
      });
      assert.equal(mesh.nf, 2);
      const [prob] = await client.request('problem.create', { mesh: mesh.mesh, variables: [{ name: 'x', dim: 3 }] });
      await client.request('problem.add_term', { problem: prob.problem, energy: 'spring', var: 'x' });
      const [res] = await client.request('problem.solve', { problem: prob.problem, options: { progress_every: 0 } });
      assert.equal(String(res.reason), 'gradient');
      await assert.rejects(client.request('no.such.method', {}));
      const [health] = await client.request('server.health', {});
      assert.equal(health.ok, true);
      const [stats] = await client.request('server.stats', {});
      assert.ok(stats.notifications_received >= 2);
    } finally {
      client.close();
    }
  });
}
