// OCI archives both ways with the real tools: what skiff saves, umoci unpacks and skopeo copies; what skopeo
// writes, skiff loads and runs. A truncated archive is refused and leaves no image.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-archive-'));
const skiff = (root: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });

after(() => rmSync(dir, { recursive: true, force: true }));

describe('OCI archives', () => {
  test('skiff save -> umoci unpack and skopeo copy; skopeo copy -> skiff load -> skiff run', () => {
    assert.equal(skiff('a', 'run', '--rm', 'localhost/busybox', 'true').code, 0);
    const archive = join(dir, 'bb.tar');
    const saved = skiff('a', 'save', '-o', archive, 'localhost/busybox:latest');
    assert.equal(saved.code, 0, saved.err);
    const layout = join(dir, 'layout');
    mkdirSync(layout);
    assert.equal(sh('tar', ['-C', layout, '-xf', archive]).status, 0);
    const unpack = sh('umoci', ['unpack', '--image', `${layout}:localhost/busybox:latest`, join(dir, 'bundle')]);
    assert.equal(unpack.status, 0, unpack.stderr);
    assert.ok(existsSync(join(dir, 'bundle/rootfs/bin/busybox')));
    const copy = sh('skopeo', ['copy', `oci-archive:${archive}`, `oci-archive:${join(dir, 'copy.tar')}:v2`]);
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(skiff('b', 'load', '-i', join(dir, 'copy.tar')).err, /^skiff: .*copy\.tar: index\.json manifests\[0\] \(sha256:[0-9a-f]{64}\), named "v2" has no full image name; give --name\n$/);
    const loaded = skiff('b', 'load', '-i', join(dir, 'copy.tar'), '--name', 'localhost/copied:v2');
    assert.equal(loaded.out.trim(), 'Loaded image: localhost/copied:v2', loaded.err);
    const run = skiff('b', 'run', '--rm', 'localhost/copied:v2', 'echo', 'from a skopeo copy');
    assert.equal(run.out.trim(), 'from a skopeo copy', run.err);
  });

  test('a truncated archive is refused and leaves no image', () => {
    const archive = join(dir, 'bb.tar');
    const cut = join(dir, 'cut.tar');
    writeFileSync(cut, readFileSync(archive).subarray(0, 300_000));
    const r = skiff('c', 'load', '-i', cut, '--name', 'localhost/cut:1');
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.equal(skiff('c', 'images', '-q').out, '');
  });
});
