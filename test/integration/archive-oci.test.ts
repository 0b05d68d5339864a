// OCI archives both ways with the real tools: what skiff saves, umoci unpacks and skopeo copies; what skopeo
// writes (one image or, with --all, a multi-platform index), skiff loads and runs. Layouts skopeo and umoci made,
// altered one document at a time, are refused at load, by one line naming the member and the field, and leave no
// image: a wrong diff_id, a non-distributable layer, a compression the media type does not say, malformed JSON.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage } from '../../src/image/default-image.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { hexOf, Layout, sha256, zstd } from '../helpers/archive-fixtures.js';
import { buildTar } from '../helpers/hostile-tar.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-archive-'));
const skiff = (root: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const tool = (cmd: string, ...args: string[]) => {
  const r = sh(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (root: string, name: string) => JSON.stringify(JSON.parse(skiff(root, 'image', 'inspect', name).out));

/** A load that must fail: exit 1, one line matching `re`, and no image, no ingest file left in the store. */
function refused(root: string, re: RegExp, ...args: string[]): void {
  const r = skiff(root, 'load', ...args);
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, re);
  assert.equal(skiff(root, 'images', '-q').out, '');
  const ingest = join(dir, root, 'content', 'ingest');
  assert.deepEqual(existsSync(ingest) ? readdirSync(ingest) : [], []);
}

let n = 0;
/** A copy of the skopeo-made layout of busybox, to alter. */
function layoutCopy(): Layout {
  const to = join(dir, `layout-${n++}`);
  cpSync(join(dir, 'skopeo-layout'), to, { recursive: true });
  return new Layout(to);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('OCI archives', () => {
  const archive = join(dir, 'bb.tar');

  before(() => {
    assert.equal(skiff('a', 'run', '--rm', 'localhost/busybox', 'true').code, 0);
    const saved = skiff('a', 'save', '-o', archive, 'localhost/busybox:latest');
    assert.equal(saved.code, 0, saved.err);
    tool('skopeo', 'copy', `oci-archive:${archive}:localhost/busybox:latest`, `oci:${join(dir, 'skopeo-layout')}:v1`);
  });

  test('skiff save -> umoci unpack and skopeo copy; skopeo copy -> skiff load -> skiff run', () => {
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
    const cut = join(dir, 'cut.tar');
    writeFileSync(cut, readFileSync(archive).subarray(0, 300_000));
    refused('c', /^skiff: .*cut\.tar: /, '-i', cut, '--name', 'localhost/cut:1');
  });

  test('a multi-platform oci-archive from skopeo copy --all: the host platform, --platform to choose, an error listing the index', async () => {
    // Two platforms of busybox (the arm64 one differs only in its config), in a layout skopeo copies whole.
    const src = new ContentStore(join(dir, 'multi-src'));
    const amd64 = await buildDefaultImage(join(dir, 'multi-src'));
    const manifest = await src.readJson<{ config: Descriptor; layers: Descriptor[] }>(amd64.digest);
    const layout = new Layout(join(dir, 'multi-layout'));
    mkdirSync(join(layout.dir, 'blobs', 'sha256'), { recursive: true });
    for (const d of [amd64, manifest.config, ...manifest.layers]) layout.put(await src.read(d.digest), d.mediaType);
    const armConfig = layout.put(Buffer.from(JSON.stringify({ ...await src.readJson<object>(manifest.config.digest), architecture: 'arm64', variant: 'v8' })), MEDIA_TYPES.ociConfig);
    const arm64 = layout.put(Buffer.from(JSON.stringify({ ...manifest, config: armConfig })), MEDIA_TYPES.ociManifest);
    const index = layout.put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex,
      manifests: [{ ...amd64, platform: { os: 'linux', architecture: 'amd64' } }, { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }],
    })), MEDIA_TYPES.ociIndex);
    writeFileSync(join(layout.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(layout.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
    const multi = join(dir, 'multi.tar');
    tool('skopeo', 'copy', '--all', `oci:${layout.dir}:multi`, `oci-archive:${multi}:localhost/multi:1`);

    const host = skiff('m', 'load', '-i', multi);
    assert.equal(host.out, 'Loaded image: localhost/multi:1\n', host.err);
    assert.match(inspect('m', 'localhost/multi:1'), /"[Aa]rchitecture":"amd64"/);
    assert.equal(skiff('m', 'run', '--rm', 'localhost/multi:1', 'true').code, 0);
    const arm = skiff('m', 'load', '-i', multi, '--platform', 'linux/aarch64');
    assert.equal(arm.code, 0, arm.err);
    assert.match(inspect('m', 'localhost/multi:1'), /"[Aa]rchitecture":"arm64"/);
    refused('m2', /^skiff: .*multi\.tar: index\.json manifests\[0\] \(sha256:[0-9a-f]{64}\): no image for linux\/s390x \(the index has linux\/amd64, linux\/arm64\); choose one with --platform\n$/, '-i', multi, '--platform', 'linux/s390x');
    assert.match(skiff('m2', 'load', '-i', multi, '--platform', 'linux').err, /--platform: "linux" is not os\/arch\[\/variant\]/);
    // A single-platform image is only what its config says.
    refused('m2', /: the image does not match the specified platform: wanted linux\/arm64, actual linux\/amd64\n$/, '-i', archive, '--platform', 'linux/arm64');
  });

  test('a layout whose config has a wrong diff_id (umoci made it) is refused naming the layer and both digests', () => {
    const layout = new Layout(join(dir, 'umoci-layout'));
    tool('umoci', 'init', '--layout', layout.dir);
    tool('umoci', 'new', '--image', `${layout.dir}:base`);
    const bundle = join(dir, 'umoci-bundle');
    tool('umoci', 'unpack', '--image', `${layout.dir}:base`, bundle);
    writeFileSync(join(bundle, 'rootfs/hello'), 'from umoci\n');
    tool('umoci', 'repack', '--image', `${layout.dir}:base`, bundle);
    assert.equal(skiff('u', 'load', '-i', layout.dir, '--name', 'localhost/umoci:1').code, 0);
    const { manifest, config } = layout.image();
    const right = (config.rootfs as { diff_ids: string[] }).diff_ids[0];
    const wrong = sha256(Buffer.from('another layer'));
    layout.rewrite({ patchConfig: (c) => ((c.rootfs as { diff_ids: string[] }).diff_ids[0] = wrong) });
    const layer = hexOf(manifest.layers[0].digest);
    const re = new RegExp(`^skiff: .*umoci-layout: layer blobs/sha256/${layer} \\(layers\\[0\\] of index\\.json manifests\\[0\\] \\(sha256:[0-9a-f]{64}\\)\\) has uncompressed digest ${right}, its config's rootfs\\.diff_ids\\[0\\] is ${wrong}\\n$`);
    refused('u2', re, '-i', layout.dir, '--name', 'localhost/umoci:2');
    // The same as an oci-archive, read as a stream.
    const tarred = join(dir, 'umoci-wrong.tar');
    tool('tar', '-C', layout.dir, '-cf', tarred, '.');
    refused('u2', /umoci-wrong\.tar: layer blobs\/sha256\/[0-9a-f]{64} \(layers\[0\] of .*\) has uncompressed digest /, '-i', tarred, '--name', 'localhost/umoci:2');
  });

  test('a non-distributable layer is refused at load as a pull refuses it', () => {
    const layout = layoutCopy();
    const type = MEDIA_TYPES.ociLayerNondistributableGzip;
    layout.rewrite({ patchManifest: (m) => (m.layers[0] = { ...m.layers[0], mediaType: type, urls: ['https://example.com/layer'] } as Descriptor) });
    const digest = layout.image().manifest.layers[0].digest;
    refused('nd', new RegExp(`: layers\\[0\\] \\(${digest}\\) is non-distributable \\(application/vnd\\.oci\\.image\\.layer\\.nondistributable\\.v1\\.tar\\+gzip\\): registries do not serve it and skiff does not fetch its urls\\n$`), '-i', layout.dir, '--name', 'localhost/nd:1');
  });

  test('Docker\'s tar.zstd layer loads and runs; a layer compressed otherwise than its media type says is refused', () => {
    const layout = layoutCopy();
    const gz = layout.image().manifest.layers[0];
    const zst = layout.put(zstd(gunzipSync(readFileSync(layout.blobPath(gz.digest)))), MEDIA_TYPES.dockerLayerZstd);
    layout.rewrite({ patchManifest: (m) => (m.layers[0] = zst) });
    const loaded = skiff('z', 'load', '-i', layout.dir, '--name', 'localhost/zstd:1');
    assert.equal(loaded.code, 0, loaded.err);
    const r = skiff('z', 'run', '--rm', 'localhost/zstd:1', 'head', '-n1', '/etc/passwd');
    assert.equal(r.out, 'root:x:0:0:root:/root:/bin/sh\n', r.err);

    layout.rewrite({ patchManifest: (m) => (m.layers[0] = { ...zst, mediaType: MEDIA_TYPES.ociLayerGzip }) });
    refused('z2', /: layer blobs\/sha256\/[0-9a-f]{64} \(layers\[0\] of .*\): its media type application\/vnd\.oci\.image\.layer\.v1\.tar\+gzip says gzip-compressed, its content is zstd-compressed\n$/, '-i', layout.dir, '--name', 'localhost/zstd:2');
  });

  test('every malformed document or field is one line naming the member and the field', () => {
    const cases: [string, (l: Layout) => void, RegExp][] = [
      ['index.json not JSON', (l) => writeFileSync(join(l.dir, 'index.json'), 'notjson'), /: index\.json \(the layout's index\): not JSON: Unexpected token/],
      ['index.json manifests', (l) => writeFileSync(join(l.dir, 'index.json'), '{"schemaVersion":2,"manifests":{}}'), /: index\.json: manifests: missing or not an array\n$/],
      ['index entry fields', (l) => writeFileSync(join(l.dir, 'index.json'), '{"manifests":[{"mediaType":"x","digest":"sha256:12","size":-1}]}'), /: index\.json: manifests\[0\]\.digest: "sha256:12" is not a sha256 digest; manifests\[0\]\.size: must be a non-negative integer\n$/],
      ['oci-layout', (l) => writeFileSync(join(l.dir, 'oci-layout'), '{}'), /: oci-layout: imageLayoutVersion: missing\n$/],
      ['manifest layers', (l) => l.rewrite({ patchManifest: (m) => ((m as Record<string, unknown>).layers = 'x') }), /: blobs\/sha256\/[0-9a-f]{64} \(index\.json manifests\[0\] .*\): manifest layers: not an array\n$/],
      ['manifest JSON', (l) => {
        const bad = l.put(Buffer.from('[1'), MEDIA_TYPES.ociManifest);
        writeFileSync(join(l.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [bad] }));
      }, /: blobs\/sha256\/[0-9a-f]{64} \(index\.json manifests\[0\] .*\): not JSON: /],
      ['config not JSON', (l) => l.rewrite({ config: Buffer.from('notjson') }), /: blobs\/sha256\/[0-9a-f]{64} \(config of index\.json manifests\[0\] .*\): not JSON: Unexpected token/],
      ['config rootfs', (l) => l.rewrite({ patchConfig: (c) => ((c.rootfs as Record<string, unknown>).diff_ids = ['sha256:x']) }), /: blobs\/sha256\/[0-9a-f]{64} \(config of .*\): rootfs\.diff_ids\[0\]: "sha256:x" is not a sha256 digest\n$/],
      ['blob size', (l) => l.rewrite({ patchManifest: (m) => (m.layers[0].size += 1) }), /: layer blobs\/sha256\/[0-9a-f]{64} \(layers\[0\] of .*\): \d+ bytes, its descriptor says \d+\n$/],
      ['blob missing', (l) => rmSync(l.blobPath(l.image().manifest.layers[0].digest)), /: layer blobs\/sha256\/[0-9a-f]{64} \(layers\[0\] of .*\) is not in the archive \(truncated\?\)\n$/],
    ];
    for (const [what, alter, re] of cases) {
      const layout = layoutCopy();
      alter(layout);
      const tarred = `${layout.dir}.tar`;
      tool('tar', '-C', layout.dir, '-cf', tarred, '.');
      for (const input of [layout.dir, tarred]) {
        const r = skiff('bad', 'load', '-i', input, '--name', 'localhost/bad:1');
        assert.equal(r.code, 1, `${what}: ${r.err}`);
        assert.equal(r.err.trim().split('\n').length, 1, `${what}: ${r.err}`);
        assert.match(r.err, re, what);
        assert.ok(r.err.startsWith(`skiff: ${input}: `), `${what}: ${r.err}`);
      }
    }
    assert.equal(skiff('bad', 'images', '-q').out, '');
  });

  test('a blob whose content is not its name\'s digest is refused as the archive is read', () => {
    const layout = layoutCopy();
    const layer = layout.image().manifest.layers[0];
    writeFileSync(layout.blobPath(layer.digest), gzipSync(buildTar([{ path: 'other', content: 'x' }])));
    const tarred = `${layout.dir}.tar`;
    tool('tar', '-C', layout.dir, '-cf', tarred, '.');
    refused('dg', new RegExp(`: blobs/sha256/${hexOf(layer.digest)}: the content has digest sha256:[0-9a-f]{64}\\n$`), '-i', tarred, '--name', 'localhost/dg:1');
  });
});
