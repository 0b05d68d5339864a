// docker-archives and OCI layouts from other tools: skopeo converts both ways, umoci builds a layout; skiff loads,
// runs, saves again; a truncated docker-archive is refused and leaves no image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-docker-archive-'));
const skiff = (store: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', join(dir, store), '--state', join(dir, `${store}-state`), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tool = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

after(() => rmSync(dir, { recursive: true, force: true }));

describe('docker-archive and foreign layouts', () => {
  const dockerTar = join(dir, 'skiff-docker.tar');

  test('skiff save --format docker-archive is read by skopeo; skopeo\'s docker-archive loads by its RepoTags and runs', () => {
    assert.equal(skiff('a', 'run', '--rm', 'localhost/busybox', 'true').code, 0);
    const saved = skiff('a', 'save', '--format', 'docker-archive', '-o', dockerTar, 'localhost/busybox');
    assert.equal(saved.code, 0, saved.err);
    const info = JSON.parse(tool('skopeo', 'inspect', `docker-archive:${dockerTar}`));
    assert.equal(info.Layers.length, 1);
    assert.deepEqual(info.RepoTags, []);
    const viaSkopeo = join(dir, 'skopeo-docker.tar');
    tool('skopeo', 'copy', `docker-archive:${dockerTar}`, `docker-archive:${viaSkopeo}:localhost/converted:2`);
    const loaded = skiff('b', 'load', '-i', viaSkopeo);
    assert.equal(loaded.out, 'Loaded image: localhost/converted:2\n', loaded.err);
    const r = skiff('b', 'run', '--rm', 'localhost/converted:2', 'sh', '-c', 'echo from docker-archive');
    assert.equal(r.out, 'from docker-archive\n', r.err);
  });

  test('round trip: skiff oci-archive -> skopeo docker-archive -> skiff -> skiff docker-archive -> skopeo oci-archive -> skiff', () => {
    const oci = join(dir, 'rt-oci.tar');
    assert.equal(skiff('a', 'save', '-o', oci, 'localhost/busybox').code, 0);
    const d1 = join(dir, 'rt-d1.tar');
    tool('skopeo', 'copy', `oci-archive:${oci}`, `docker-archive:${d1}:localhost/rt:1`);
    assert.equal(skiff('c', 'load', '-i', d1).code, 0);
    const d2 = join(dir, 'rt-d2.tar');
    assert.equal(skiff('c', 'save', '--format', 'docker-archive', '-o', d2, 'localhost/rt:1').code, 0);
    const o2 = join(dir, 'rt-o2.tar');
    tool('skopeo', 'copy', `docker-archive:${d2}`, `oci-archive:${o2}:x`);
    assert.equal(skiff('d', 'load', '-i', o2, '--name', 'localhost/rt:2').code, 0);
    const r = skiff('d', 'run', '--rm', 'localhost/rt:2', 'cat', '/etc/hostname');
    assert.equal(r.out, 'busybox\n', r.err);
    // Same layer content all the way: the uncompressed digests never changed.
    const diffIds = (store: string, name: string) => JSON.parse(skiff(store, 'image', 'inspect', name).out)[0].config.rootfs.diff_ids;
    assert.deepEqual(diffIds('d', 'localhost/rt:2'), diffIds('a', 'localhost/busybox'));
  });

  test('an OCI layout made by umoci (init, new, unpack, repack) loads and mounts', () => {
    const layout = join(dir, 'umoci-layout');
    tool('umoci', 'init', '--layout', layout);
    tool('umoci', 'new', '--image', `${layout}:base`);
    // unpack + repack: Debian's umoci 0.4.7 `insert` writes a layer whose tar stops short (GNU tar agrees).
    const bundle = join(dir, 'umoci-bundle');
    tool('umoci', 'unpack', '--image', `${layout}:base`, bundle);
    mkdirSync(join(bundle, 'rootfs/srv'));
    writeFileSync(join(bundle, 'rootfs/srv/hello'), 'from umoci\n');
    tool('umoci', 'repack', '--image', `${layout}:base`, bundle);
    const loaded = skiff('e', 'load', '-i', layout, '--name', 'localhost/umoci:1');
    assert.equal(loaded.out, 'Loaded image: localhost/umoci:1\n', loaded.err);
    const path = skiff('e', 'image', 'mount', 'localhost/umoci:1').out.trim();
    try {
      assert.equal(readFileSync(join(path, 'srv/hello'), 'utf8'), 'from umoci\n');
    } finally {
      assert.equal(skiff('e', 'image', 'unmount', 'localhost/umoci:1').code, 0);
    }
  });

  test('a truncated docker-archive is one error line and leaves no image', () => {
    const cut = join(dir, 'cut.tar');
    writeFileSync(cut, readFileSync(dockerTar).subarray(0, 500_000));
    const r = skiff('f', 'load', '-i', cut);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^skiff: .*cut\.tar: /);
    assert.equal(skiff('f', 'images', '-q').out, '');
    assert.ok(!existsSync(join(dir, 'f', 'images')) || spawnSync('ls', [join(dir, 'f', 'images')]).stdout.length === 0);
    assert.match(skiff('f', 'save', '--format', 'tarball', '-o', join(dir, 'x.tar'), 'localhost/busybox').err, /^skiff: --format: "tarball" is not one of oci-archive, docker-archive\n$/);
    assert.ok(!existsSync(join(dir, 'x.tar')));
  });
});
