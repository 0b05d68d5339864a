// The cost of a container's root filesystem on a pulled image: unpacking its layers once, then preparing and
// removing a rootfs (overlay mount + upper/work dirs, then unmount and removal) many times, with the copying
// fallback for comparison. The image is the built-in busybox pushed to Debian's docker-registry on loopback by
// skopeo, then pulled by skiff. Root. Usage: node dist/bench/rootfs.js [RUNS]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { saveArchive } from '../src/image/archive/save.js';
import { buildDefaultImage } from '../src/image/default-image.js';
import { localImage } from '../src/image/local-image.js';
import { pull } from '../src/image/pull.js';
import { prepareRootfs, type RootfsMethod } from '../src/image/rootfs.js';
import { startRegistry } from '../test/helpers/registry.js';

const RUNS = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'skiff-rootfs-bench-'));
const registry = await startRegistry();
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(2)} ms, p90 ${s[Math.floor(s.length * 0.9)].toFixed(2)} ms (n=${s.length})`;
};

try {
  const source = join(dir, 'source');
  await buildDefaultImage(source);
  const archive = join(dir, 'bb.tar');
  await saveArchive(source, 'localhost/busybox:latest', archive, 'oci-archive');
  const ref = `${registry.address}/bench/busybox:1`;
  const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${ref}`], { encoding: 'utf8' });
  if (copy.status !== 0) throw new Error(`skopeo copy: ${copy.stderr}`);

  const root = join(dir, 'root');
  let t = performance.now();
  await pull(root, ref);
  const pullMs = performance.now() - t;
  t = performance.now();
  const img = await localImage(root, ref);
  const unpackMs = performance.now() - t;
  console.log(`pull ${pullMs.toFixed(1)} ms, unpack ${unpackMs.toFixed(1)} ms (${img.layers.length} layer: busybox-static, applets as hard links)`);

  for (const method of ['overlay', 'copy'] as RootfsMethod[]) {
    const prepare: number[] = [];
    const remove: number[] = [];
    const runs = method === 'copy' ? Math.max(5, Math.floor(RUNS / 5)) : RUNS;
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      const rootfs = await prepareRootfs(root, `bench-${method}-${i}`, img.layers, { method });
      prepare.push(performance.now() - t);
      t = performance.now();
      await rootfs.unmount();
      remove.push(performance.now() - t);
    }
    console.log(`${method}: prepare ${stats(prepare)}; remove ${stats(remove)}`);
  }
} finally {
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
