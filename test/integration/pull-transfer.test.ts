// Transfers against Debian's docker-registry through a recording proxy (test/helpers/registry-proxy.ts): chunked
// push of a blob over 16 MB and a cross-repository mount, a pull killed half way that resumes with a Range
// request, two pulls at once that download each blob once, a 503 retried, mirrors from registries.json, and a
// pull of a tag already in the store that is only a manifest HEAD while the tag names the same digest.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage } from '../../src/image/default-image.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { spawnCollecting } from '../helpers/async-child.js';
import { buildLayeredImage } from '../helpers/layered-image.js';
import { startRegistryProxy, type RegistryProxy } from '../helpers/registry-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-transfer-'));
const args = (root: string, more: string[]) => [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...more];
// Every child runs asynchronously: the proxy lives in this process, so its event loop must keep turning.
const run = (cmd: string, argv: string[]) => spawnCollecting(cmd, argv);
const skiffAsync = (root: string, ...more: string[]) => run(process.execPath, args(root, more));
const skiff = (root: string, ...more: string[]) => skiffAsync(root, ...more).done;
const skopeo = (...argv: string[]) => run('skopeo', argv).done;
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
};

const BIG = 20 * 1024 * 1024 + 12345;
let registry: TestRegistry;
let proxy: RegistryProxy;
let bigRef: string;
let bigLayer: string;
let bigData: Buffer;

before(async () => {
  registry = await startRegistry();
  proxy = await startRegistryProxy(registry.address);
  bigRef = `${proxy.address}/t/big:1`;
  bigData = randomBytes(BIG);
  bigLayer = (await buildLayeredImage(join(dir, 'src'), bigRef, { 'big.bin': bigData })).digest;
});

after(async () => {
  await proxy?.stop();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const blobGets = (digest: string) => proxy.seen.filter((s) => s.method === 'GET' && s.path.endsWith(`/blobs/${digest}`));

describe('registry transfers', () => {
  test('a layer over 16 MB is pushed in PATCH chunks and read back by skopeo', async () => {
    const p = await skiff('src', 'push', bigRef);
    assert.equal(p.code, 0, p.err);
    const patches = proxy.seen.filter((s) => s.method === 'PATCH' && s.path.includes('/t/big/blobs/uploads/'));
    assert.equal(patches.length, 2, 'one 16 MB chunk and the rest');
    const inspect = await skopeo('inspect', '--tls-verify=false', `docker://${bigRef}`);
    assert.equal(inspect.code, 0, inspect.err);
    assert.ok((JSON.parse(inspect.out) as { Layers: string[] }).Layers.includes(bigLayer));
  });

  test('a pull killed half way resumes with a Range request, and the store verifies clean', async () => {
    proxy.rule = (s) => (s.method === 'GET' && s.path.endsWith(bigLayer) ? { stallAfter: 6 * 1024 * 1024 } : undefined);
    const partial = join(dir, 'k', 'content', 'ingest', `${bigLayer.slice(7)}.partial`);
    const first = skiffAsync('k', 'pull', bigRef);
    // The client writes in batches of up to 1 MiB, so the file holds most, not all, of what was sent.
    await until(() => proxy.bytesSent(bigLayer) === 6 * 1024 * 1024 && existsSync(partial) && statSync(partial).size >= 5 * 1024 * 1024);
    process.kill(first.pid, 'SIGKILL');
    await first.done;
    const kept = statSync(partial).size;
    assert.equal((await skiff('k', 'images', '-q')).out, '', 'no image name after a killed pull');

    proxy.rule = () => undefined;
    const second = await skiff('k', 'pull', bigRef);
    assert.equal(second.code, 0, second.err);
    assert.match(second.err, new RegExp(`resuming at byte ${kept}`));
    assert.deepEqual(blobGets(bigLayer).map((s) => s.range), [undefined, `bytes=${kept}-`]);
    const blob = readFileSync(join(dir, 'k', 'content', 'blobs', 'sha256', bigLayer.slice(7)));
    assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, bigLayer);
    const ran = await skiff('k', 'run', '--rm', bigRef, 'sh', '-c', 'wc -c < /big.bin');
    assert.equal(ran.out.trim(), String(BIG), ran.err);
  });

  test('two pulls at once download each blob once', async () => {
    const before = blobGets(bigLayer).length;
    const [a, b] = await Promise.all([skiffAsync('c', 'pull', bigRef).done, skiffAsync('c', 'pull', bigRef).done]);
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.equal(blobGets(bigLayer).length - before, 1);
  });

  test('a blob present in another repository of the registry is mounted, not uploaded', async () => {
    const copy = `${proxy.address}/u/copy:1`;
    assert.equal((await skiff('k', 'tag', bigRef, copy)).code, 0);
    const p = await skiff('k', 'push', copy);
    assert.equal(p.code, 0, p.err);
    assert.match(p.err, new RegExp(`${bigLayer.slice(7, 19)}: mounted from t/big`));
    assert.ok(proxy.seen.some((s) => s.method === 'POST' && s.path.includes(`/u/copy/blobs/uploads/?mount=${bigLayer}&from=t%2Fbig`)));
    assert.ok(!proxy.seen.some((s) => s.method === 'PATCH' && s.path.includes('/u/copy/')));
  });

  test('a 503 from the registry is retried', async () => {
    let refused = 0;
    proxy.rule = (s) => (s.path.endsWith('/manifests/1') && s.path.includes('/t/big/') && refused++ === 0 ? { status: 503 } : undefined);
    try {
      const p = await skiff('r', 'pull', bigRef);
      assert.equal(p.code, 0, p.err);
      assert.match(p.err, /HTTP 503.*retrying in 0\.2s \(1\/3\)/);
    } finally {
      proxy.rule = () => undefined;
    }
  });

  test('docker.io served from the mirrors in registries.json: a dead one is passed over', async () => {
    const root = join(dir, 'm');
    mkdirSync(root);
    writeFileSync(join(root, 'registries.json'), JSON.stringify({
      registries: { 'docker.io': { mirrors: ['http://127.0.0.1:1', `http://${proxy.address}`] } }, retries: 0,
    }));
    const p = await skiff('m', 'pull', 'docker.io/t/big:1');
    assert.equal(p.code, 0, p.err);
    assert.equal(p.out.trim(), 'docker.io/t/big:1');
    assert.match(p.err, /127\.0\.0\.1:1 \(mirror\): .*trying the next/);

    writeFileSync(join(root, 'registries.json'), JSON.stringify({ registries: { 'docker.io': { mirrors: ['ftp://x'] } }, retries: 99 }));
    const bad = await skiff('m', 'pull', 'docker.io/t/big:1');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /registries\["docker\.io"\]\.mirrors\[0\]: "ftp:\/\/x" is not host\[:port\] or an http\(s\):\/\/ URL/);
    assert.match(bad.err, /retries: must be an integer from 0 to 20/);
  });

  test('a tag already in the store: a manifest HEAD and nothing more while it names the same digest, a GET when it changed', async () => {
    const ref = `${proxy.address}/t/head:1`;
    const publish = async (text: string) => {
      await buildLayeredImage(join(dir, 'src'), ref, { 'v.txt': Buffer.from(text) });
      const p = await skiff('src', 'push', ref);
      assert.equal(p.code, 0, p.err);
    };
    const since = (from: number) => proxy.seen.slice(from).map((s) => `${s.method} ${s.path}`);
    await publish('one\n');
    assert.equal((await skiff('h', 'pull', '-q', ref)).code, 0);

    let from = proxy.seen.length;
    const same = await skiff('h', 'pull', ref);
    assert.equal(same.code, 0, same.err);
    assert.equal(same.out, `${ref}\n`);
    assert.equal(same.err, `Status: Image is up to date for ${ref}\n`);
    assert.deepEqual(since(from), ['HEAD /v2/t/head/manifests/1']);

    await publish('two\n');
    from = proxy.seen.length;
    const changed = await skiff('h', 'pull', ref);
    assert.equal(changed.code, 0, changed.err);
    assert.doesNotMatch(changed.err, /up to date/);
    const seen = since(from);
    assert.deepEqual(seen.slice(0, 2), ['HEAD /v2/t/head/manifests/1', 'GET /v2/t/head/manifests/1']);
    assert.equal(seen.filter((s) => s.startsWith('GET /v2/t/head/blobs/')).length, 2, 'the new config and layer, not the base layer');
    const ran = await skiff('h', 'run', '--rm', ref, 'cat', '/v.txt');
    assert.equal(ran.out, 'two\n', ran.err);
  });

  test('a multi-platform index: the host platform by default, --platform to choose, an error listing what exists', async () => {
    const root = join(dir, 'multi-src');
    const content = new ContentStore(root);
    const amd64 = await buildDefaultImage(root);
    const manifest = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(amd64.digest);
    const config = await content.readJson<Record<string, unknown>>(manifest.config.digest);
    const armConfig = await content.ingest(Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' })), MEDIA_TYPES.ociConfig);
    const arm64 = await content.ingest(Buffer.from(JSON.stringify({ ...manifest, config: armConfig })), MEDIA_TYPES.ociManifest);
    const index = await content.ingest(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex,
      manifests: [{ ...amd64, platform: { os: 'linux', architecture: 'amd64' } }, { ...arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }],
    })), MEDIA_TYPES.ociIndex);
    // The content store is an OCI layout; an index.json naming the index lets skopeo copy it whole.
    writeFileSync(join(root, 'content', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
    const ref = `${proxy.address}/t/multi:1`;
    const copy = await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${join(root, 'content')}:multi`, `docker://${ref}`);
    assert.equal(copy.code, 0, copy.err);

    assert.equal((await skiff('p', 'pull', '-q', ref)).code, 0);
    const inspect = async () => JSON.parse((await skiff('p', 'image', 'inspect', ref)).out) as Record<string, unknown>;
    assert.match(JSON.stringify(await inspect()), /"Architecture":"amd64"/);
    const arm = await skiff('p', 'pull', '-q', '--platform', 'linux/aarch64', ref);
    assert.equal(arm.code, 0, arm.err);
    assert.match(JSON.stringify(await inspect()), /"Architecture":"arm64"/);
    // The tag names the index; the index kept by the last pull says its arm64 entry is what the name points at.
    const from = proxy.seen.length;
    const same = await skiff('p', 'pull', '--platform', 'linux/arm64', ref);
    assert.equal(same.code, 0, same.err);
    assert.match(same.err, /Image is up to date/);
    assert.deepEqual(proxy.seen.slice(from).map((s) => `${s.method} ${s.path}`), ['HEAD /v2/t/multi/manifests/1']);
    const host = await skiff('p', 'pull', ref);
    assert.doesNotMatch(host.err, /up to date/, 'the host platform is not what the name points at');
    assert.match(JSON.stringify(await inspect()), /"Architecture":"amd64"/);
    const none = await skiff('p', 'pull', '--platform', 'linux/s390x', ref);
    assert.equal(none.code, 1);
    assert.match(none.err, /no image for linux\/s390x \(the index has linux\/amd64, linux\/arm64\); choose one with --platform/);
    assert.match((await skiff('p', 'pull', '--platform', 'linux', ref)).err, /--platform: "linux" is not os\/arch\[\/variant\]/);
  });
});

