// linux.resources.memory.kernel and kernelTCP, which CRI clients still send: the container runs, and skiff-runtime
// warns once, on stderr or in --log as its other warnings (as runc warns of them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeBundle } from '../helpers/bundle.js';

const cli = fileURLToPath(new URL('../../bin/skiff-runtime.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-kmem-'));
const root = join(dir, 'state');
const suffix = `${process.pid}-${Date.now() % 100000}`;
const WARNING = 'linux.resources.memory.kernel is ignored: kernel memory limits are deprecated and Linux 5.16+ does not enforce them (runc ignores them too)';

after(() => rmSync(dir, { recursive: true, force: true }));

test('kernel memory limits: the container runs, with one warning on stderr, or in --log', () => {
  const b = makeBundle(dir, ['sh', '-c', 'echo ran'], (s) => {
    s.linux!.resources = { memory: { limit: 64 << 20, kernel: 32 << 20, kernelTCP: 16 << 20 } };
  });
  const id = `kmem-${suffix}`;
  const r = spawnSync(process.execPath, [cli, '--root', root, 'run', '--bundle', b.dir, id], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ran\n');
  assert.equal(r.stderr, `warning: ${WARNING}\n`);

  const log = join(dir, 'log.json');
  const logged = spawnSync(process.execPath, [cli, '--root', root, '--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, `${id}-log`],
    { encoding: 'utf8' });
  assert.equal(logged.status, 0, logged.stderr);
  assert.equal(logged.stderr, '');
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warning', WARNING]]);
  for (const c of [id, `${id}-log`]) assert.ok(!existsSync(`/sys/fs/cgroup/memory/skiff/${c}`));
});
