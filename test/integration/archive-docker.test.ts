// docker-archives and OCI layouts from other tools: skopeo converts both ways, umoci builds a layout; skiff loads,
// runs, saves again. A docker-archive skopeo made, altered (a layer swapped for another gzipped one, a foreign
// layer, malformed manifest.json or config), is refused by one line and leaves no image; gzipped archives and
// docker save's symlinked layers load. save's errors name the user's path and leave no temporary file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { sha256 } from '../helpers/archive-fixtures.js';
import { buildTar } from '../helpers/hostile-tar.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
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

/** A load that must fail: exit 1, one line matching `re`, and no image, no ingest file left in the store. */
function refused(store: string, re: RegExp, ...args: string[]): void {
  const r = skiff(store, 'load', ...args);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, re);
  assert.equal(skiff(store, 'images', '-q').out, '');
  const ingest = join(dir, store, 'content', 'ingest');
  assert.deepEqual(existsSync(ingest) ? readdirSync(ingest) : [], []);
}

interface ManifestEntry { Config: string; RepoTags: string[]; Layers: string[]; LayerSources?: unknown }

let n = 0;
/** An archive extracted to a directory to alter; `pack` tars it again (GNU tar: "./" names). */
function extracted(from: string): { dir: string; manifest: ManifestEntry[]; write: (m: unknown) => void; pack: () => string } {
  const to = join(dir, `extracted-${n++}`);
  mkdirSync(to);
  tool('tar', '-C', to, '-xf', from);
  return {
    dir: to,
    manifest: existsSync(join(to, 'manifest.json')) ? JSON.parse(readFileSync(join(to, 'manifest.json'), 'utf8')) as ManifestEntry[] : [],
    write: (m) => writeFileSync(join(to, 'manifest.json'), typeof m === 'string' ? m : JSON.stringify(m)),
    pack: () => {
      tool('tar', '-C', to, '-cf', `${to}.tar`, '.');
      return `${to}.tar`;
    },
  };
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('docker-archive and foreign layouts', () => {
  const dockerTar = join(dir, 'skiff-docker.tar');
  const viaSkopeo = join(dir, 'skopeo-docker.tar');

  before(() => {
    assert.equal(skiff('a', 'run', '--rm', 'localhost/busybox', 'true').code, 0);
    const saved = skiff('a', 'save', '--format', 'docker-archive', '-o', dockerTar, 'localhost/busybox');
    assert.equal(saved.code, 0, saved.err);
    tool('skopeo', 'copy', `docker-archive:${dockerTar}`, `docker-archive:${viaSkopeo}:localhost/converted:2`);
  });

  test('skiff save --format docker-archive is read by skopeo; skopeo\'s docker-archive loads by its RepoTags and runs', () => {
    const info = JSON.parse(tool('skopeo', 'inspect', `docker-archive:${dockerTar}`));
    assert.equal(info.Layers.length, 1);
    assert.deepEqual(info.RepoTags, []);
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
    const r = skiff('d', 'run', '--rm', 'localhost/rt:2', 'head', '-n1', '/etc/passwd');
    assert.equal(r.out, 'root:x:0:0:root:/root:/bin/sh\n', r.err);
    // Same layer content all the way: the uncompressed digests never changed.
    const diffIds = (store: string, name: string) => {
      const i = JSON.parse(skiff(store, 'image', 'inspect', name).out)[0];
      return i.RootFS?.Layers ?? i.config.rootfs.diff_ids;
    };
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
    refused('f', /^skiff: .*cut\.tar: /, '-i', cut);
    assert.ok(!existsSync(join(dir, 'f', 'images')) || readdirSync(join(dir, 'f', 'images')).length === 0);
  });

  test('a layer swapped for another gzipped tar is refused naming the archive, the layer and both digests', () => {
    const x = extracted(viaSkopeo);
    const layer = x.manifest[0].Layers[0];
    const other = buildTar([{ path: 'etc/hostname', content: 'not busybox\n' }]);
    writeFileSync(join(x.dir, layer), gzipSync(other));
    const want = (JSON.parse(readFileSync(join(x.dir, x.manifest[0].Config), 'utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0];
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const tarred = x.pack();
    refused('g', new RegExp(`^skiff: ${esc(tarred)}: layer "${esc(layer)}" \\(manifest\\.json\\[0\\]\\.Layers\\[0\\]\\) has uncompressed digest ${sha256(other)}, its config's rootfs\\.diff_ids\\[0\\] is ${want}\\n$`), '-i', tarred);
    refused('g', new RegExp(`^skiff: ${esc(x.dir)}: layer "${esc(layer)}" .* has uncompressed digest ${sha256(other)}, `), '-i', x.dir);
  });

  test('a foreign layer (docker save\'s LayerSources) is refused as a pull refuses it', () => {
    const x = extracted(viaSkopeo);
    const diffId = (JSON.parse(readFileSync(join(x.dir, x.manifest[0].Config), 'utf8')) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids[0];
    const foreign = { mediaType: MEDIA_TYPES.dockerForeignLayerGzip, digest: sha256(Buffer.from('windows')), size: 7, urls: ['https://example.com/base'] };
    x.write([{ ...x.manifest[0], LayerSources: { [diffId]: foreign } }]);
    refused('h', new RegExp(`: manifest\\.json\\[0\\]: layers\\[0\\] \\(${foreign.digest}\\) is non-distributable \\(application/vnd\\.docker\\.image\\.rootfs\\.foreign\\.diff\\.tar\\.gzip\\): registries do not serve it and skiff does not fetch its urls\\n$`), '-i', x.pack());
  });

  test('malformed manifest.json and config: one line naming the member and the field', () => {
    const cases: [unknown, RegExp][] = [
      ['notjson', /: manifest\.json \(the archive's index\): not JSON: Unexpected token/],
      [{}, /: manifest\.json: not a JSON array/],
      [[], /: manifest\.json: lists no image\n$/],
      [[{ Config: 1, RepoTags: 'x' }], /: manifest\.json: \[0\]\.Config: not a file name; \[0\]\.Layers: missing; \[0\]\.RepoTags: not an array\n$/],
      [[{ Config: 'c.json', Layers: [1], RepoTags: ['Bad Name'] }], /: manifest\.json: \[0\]\.Layers: not an array of file names; \[0\]\.RepoTags\[0\]: invalid image reference "Bad Name": /],
    ];
    for (const [doc, re] of cases) {
      const x = extracted(viaSkopeo);
      x.write(doc);
      refused('i', re, '-i', x.pack());
    }
    const x = extracted(viaSkopeo);
    writeFileSync(join(x.dir, x.manifest[0].Config), 'notjson');
    const config = x.manifest[0].Config.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    refused('i', new RegExp(`: ${config} \\(manifest\\.json\\[0\\]\\.Config\\): not JSON: Unexpected token`), '-i', x.pack());
    const y = extracted(viaSkopeo);
    writeFileSync(join(y.dir, y.manifest[0].Config), '{"rootfs":{"diff_ids":"x"}}');
    refused('i', /\(manifest\.json\[0\]\.Config\): rootfs\.diff_ids: missing or not an array\n$/, '-i', y.pack());
    const z = extracted(viaSkopeo);
    z.write([{ ...z.manifest[0], Layers: ['nothere.tar'] }]);
    refused('i', /: manifest\.json\[0\]\.Layers\[0\]: "nothere\.tar" is not in the archive \(truncated\?\)\n$/, '-i', z.pack());
  });

  test('a gzipped docker-archive (docker save | gzip) and docker save\'s symlinked layers load', () => {
    const gz = join(dir, 'bb.tar.gz');
    writeFileSync(gz, gzipSync(readFileSync(viaSkopeo)));
    const loaded = skiff('j', 'load', '-i', gz);
    assert.equal(loaded.out, 'Loaded image: localhost/converted:2\n', loaded.err);
    // docker save writes a layer shared by two images once and links the second to it.
    const x = extracted(viaSkopeo);
    const layer = x.manifest[0].Layers[0];
    mkdirSync(join(x.dir, 'second'));
    symlinkSync(`../${layer}`, join(x.dir, 'second', 'layer.tar'));
    x.write([x.manifest[0], { ...x.manifest[0], RepoTags: ['localhost/second:1'], Layers: ['second/layer.tar'] }]);
    const both = skiff('j', 'load', '-i', x.pack());
    assert.equal(both.out, 'Loaded image: localhost/converted:2\nLoaded image: localhost/second:1\n', both.err);
    const r = skiff('j', 'run', '--rm', 'localhost/second:1', 'head', '-n1', '/etc/passwd');
    assert.equal(r.out, 'root:x:0:0:root:/root:/bin/sh\n', r.err);
  });

  test('docker 25\'s archive (an OCI layout and a manifest.json naming its blobs) loads by manifest.json\'s names', () => {
    const oci = join(dir, 'd25-oci.tar');
    assert.equal(skiff('a', 'save', '-o', oci, 'localhost/busybox').code, 0);
    const x = extracted(oci);
    const index = JSON.parse(readFileSync(join(x.dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(readFileSync(join(x.dir, 'blobs', 'sha256', index.manifests[0].digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
    const blob = (d: { digest: string }) => `blobs/sha256/${d.digest.slice(7)}`;
    x.write([{ Config: blob(manifest.config), RepoTags: ['localhost/d25:1'], Layers: manifest.layers.map(blob) }]);
    const loaded = skiff('k', 'load', '-i', x.pack());
    assert.equal(loaded.out, 'Loaded image: localhost/d25:1\n', loaded.err);
    const r = skiff('k', 'run', '--rm', 'localhost/d25:1', 'head', '-n1', '/etc/passwd');
    assert.equal(r.out, 'root:x:0:0:root:/root:/bin/sh\n', r.err);
  });

  test('save: errors name the path given and the cause, and leave no temporary file', () => {
    const save = (output: string, ...more: string[]) => skiff('a', 'save', ...more, '-o', output, 'localhost/busybox');
    assert.equal(save('/nonexistent/dir/x.tar').err, 'skiff: save -o /nonexistent/dir/x.tar: directory /nonexistent/dir does not exist\n');
    assert.equal(save('/sys/x.tar').err, 'skiff: save -o /sys/x.tar: cannot create a file in /sys: permission denied\n');
    assert.equal(save(dir).err, `skiff: save -o ${dir}: is a directory\n`);
    assert.equal(save(join(dockerTar, 'x.tar')).err, `skiff: save -o ${dockerTar}/x.tar: ${dockerTar} is not a directory\n`);
    assert.match(save(join(dir, 'x.tar'), '--format', 'tarball').err, /^skiff: --format: "tarball" is not one of oci-archive, docker-archive\n$/);
    assert.match(skiff('a', 'save', '-o', join(dir, 'x.tar'), 'localhost/nothere').err, /^skiff: image "localhost\/nothere" .* is not in the local store\n$/);
    assert.ok(!existsSync(join(dir, 'x.tar')));

    // A full file system: the write fails half way, the temporary file goes, and the old output stays as it was.
    const small = join(dir, 'small');
    mkdirSync(small);
    tool('mount', '-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small);
    try {
      writeFileSync(join(small, 'x.tar'), 'old');
      for (const format of ['docker-archive', 'oci-archive']) {
        assert.equal(save(join(small, 'x.tar'), '--format', format).err, `skiff: save -o ${small}/x.tar: writing: no space left on device\n`);
        assert.deepEqual(readdirSync(small), ['x.tar']);
        assert.equal(readFileSync(join(small, 'x.tar'), 'utf8'), 'old');
      }
    } finally {
      tool('umount', small);
    }
  });
});
