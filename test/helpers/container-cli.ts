// For the tests of the container commands (cp, top, stats, port, volume, system df): the skiff CLI on a store of
// the test's own (skiff-cli.ts) with stdin and stdout as bytes (tars), names no other test or engineer uses, and a
// check that the store left nothing on the host beyond what was there when it was made.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hostSnapshot, skiffStore, type SkiffStore } from './skiff-cli.js';

export interface ContainerCli extends SkiffStore {
  /** skiff with `input` on stdin, its stdout as bytes. */
  runBytes(args: string[], input?: Buffer): { code: number | null; out: Buffer; err: string };
  unique(prefix: string): string;
  /** No mount, pinned namespace or monitor of the store; no cgroup or iptables rule of its containers. */
  nothingLeft(): void;
}

export function containerCli(prefix: string): ContainerCli {
  const store = skiffStore(`${prefix}-`);
  // The default image is made on first use: before the baseline, so that its unpacking is not counted.
  assert.equal(store.run('image', 'inspect', 'localhost/busybox').code, 0);
  const baseline = hostSnapshot(store);
  // The containers this store made (run -d and create print their IDs): other engineers' come and go meanwhile,
  // so cgroups and rules are looked for by these IDs.
  const ids = new Set<string>();
  return {
    ...store,
    run(...args) {
      const r = store.run(...args);
      const id = /^[0-9a-f]{64}$/m.exec(r.out)?.[0];
      if ((args[0] === 'run' || args[0] === 'create') && r.code === 0 && id) ids.add(id);
      return r;
    },
    runBytes(args, input) {
      const r = spawnSync(process.execPath, store.args(...args), { input, maxBuffer: 256 << 20 });
      return { code: r.status, out: r.stdout, err: r.stderr.toString() };
    },
    unique: (p) => `${p}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    nothingLeft() {
      const now = hostSnapshot(store);
      assert.deepEqual(now.mounts, [], 'no mount of the store');
      assert.deepEqual(now.netns, [], 'no pinned network namespace');
      assert.deepEqual(now.monitors, [], 'no monitor process');
      const ours = (line: string) => [...ids].some((id) => line.includes(id));
      assert.deepEqual(now.cgroups.filter(ours), [], 'no cgroup');
      assert.deepEqual(now.iptables.filter((r) => ours(r) && !baseline.iptables.includes(r)), [], 'no iptables rule');
      for (const d of [join(store.state, 'runtime'), join(store.root, 'containers')]) {
        if (existsSync(d)) assert.deepEqual(readdirSync(d).filter((e) => /^[0-9a-f]{64}$/.test(e)), [], `${d} is empty`);
      }
    },
  };
}
