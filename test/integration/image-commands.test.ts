// The commands that read and change the local image store, as docker's behave: images (columns, -q, --digests,
// --format json and templates, broken images listed with a warning), tag (by ID, no digest in the target, names
// as long as the spec allows), image inspect (docker's shape), rmi (each name on its own, in use by a container
// or an image mount, by ID), content/index.json read by skopeo, and image mount checked against mountinfo.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { humanSize } from '../../src/cli/skiff/docker-units.js';
import { ContentStore, type Descriptor } from '../../src/image/content-store.js';
import { buildDefaultImage } from '../../src/image/default-image.js';
import { ImageStore } from '../../src/image/image-store.js';
import { MEDIA_TYPES } from '../../src/image/media-types.js';
import { imageVariant } from '../helpers/image-variant.js';
import { buildLayeredImage } from '../helpers/layered-image.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-image-cmds-'));
const rootOf = (store: string) => join(dir, store);
const argv = (store: string, args: string[]) => [skiffBin, '--root', rootOf(store), '--state', join(dir, `${store}-state`), ...args];
const skiff = (store: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, argv(store, args), { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const ok = (store: string, ...args: string[]) => {
  const r = skiff(store, ...args);
  assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.err}`);
  return r.out;
};
const lines = (s: string) => s.split('\n').filter(Boolean);
const mountedUnder = (path: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(path));

after(() => {
  // A failed assertion can leave an image mount behind: unmount everything under the test directory first.
  for (const l of mountedUnder(dir).reverse()) spawnSync('umount', ['-l', l.split(' ')[4]]);
  rmSync(dir, { recursive: true, force: true });
});

/** What docker would show for the image `name` points at: the short config digest and the size of its blobs. */
async function expected(store: string, name: string): Promise<{ id: string; size: string; manifest: string; config: string }> {
  const content = new ContentStore(rootOf(store));
  const rec = (await new ImageStore(rootOf(store)).get(name))!;
  const m = await content.readJson<{ config: Descriptor; layers: Descriptor[] }>(rec.target.digest);
  const bytes = [rec.target, m.config, ...m.layers].reduce((n, d) => n + statSync(content.path(d.digest)).size, 0);
  return { id: m.config.digest.slice(7, 19), size: humanSize(bytes), manifest: rec.target.digest, config: m.config.digest };
}

describe('skiff images', () => {
  test('docker\'s columns, newest first; -q prints each image ID once', async () => {
    await imageVariant(rootOf('a'), 'localhost/recent:2', { created: new Date(Date.now() - 3 * 86_400_000 - 60_000).toISOString() });
    ok('a', 'tag', 'localhost/busybox', 'localhost/other:1');
    const bb = await expected('a', 'localhost/busybox:latest');
    const recent = await expected('a', 'localhost/recent:2');
    assert.deepEqual(lines(ok('a', 'images')), [
      'REPOSITORY          TAG       IMAGE ID       CREATED        SIZE',
      `localhost/recent    2         ${recent.id}   3 days ago     ${recent.size}`,
      `localhost/busybox   latest    ${bb.id}   56 years ago   ${bb.size}`,
      `localhost/other     1         ${bb.id}   56 years ago   ${bb.size}`,
    ]);
    assert.equal(ok('a', 'images', '-q'), `${recent.id}\n${bb.id}\n`);
    const digests = lines(ok('a', 'images', '--digests'));
    assert.match(digests[0], /^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$/);
    assert.match(digests[2], new RegExp(`^localhost/busybox +latest +${bb.manifest} +${bb.id} +56 years ago +${bb.size}$`));
  });

  test('--format json: one object per line, docker\'s keys; --format TEMPLATE; anything else in braces is an error', async () => {
    const bb = await expected('a', 'localhost/busybox:latest');
    const json = lines(ok('a', 'images', '--format', 'json')).map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(json.length, 3);
    assert.deepEqual(json[1], {
      Containers: 'N/A', CreatedAt: '1970-01-01 00:00:00 +0000 UTC', CreatedSince: '56 years ago', Digest: bb.manifest, ID: bb.id,
      Repository: 'localhost/busybox', SharedSize: 'N/A', Size: bb.size, Tag: 'latest', UniqueSize: 'N/A', VirtualSize: bb.size,
    });
    assert.deepEqual(Object.keys(json[0]), Object.keys(json[0]).sort(), 'keys sorted, as Go writes a map');
    assert.equal(ok('a', 'images', '--format', '{{.Repository}}:{{.Tag}}\\t{{.ID}} {{.Digest}}').split('\n')[1], `localhost/busybox:latest\t${bb.id} ${bb.manifest}`);
    assert.deepEqual(lines(ok('a', 'images', '--format', 'table {{.Tag}}\\t{{.CreatedAt}}')).slice(0, 2), ['TAG       CREATED AT', `2         ${json[0].CreatedAt}`]);
    for (const bad of ['{{.Name}}', '{{json .}}', '{{.Tag']) {
      const r = skiff('a', 'images', '--format', bad);
      assert.equal(r.code, 1);
      assert.equal(r.out, '');
      assert.equal(lines(r.err).length, 1, r.err);
      assert.match(r.err, /^skiff: --format: "\{\{/);
    }
  });

  test('an image whose blobs are missing is listed (SIZE N/A) with one warning line each; the rest as usual', async () => {
    const root = rootOf('b');
    const noConfig = await imageVariant(root, 'localhost/noconfig:1', { author: 'gone' });
    rmSync(new ContentStore(root).path(noConfig.config.digest));
    const layer = await buildLayeredImage(root, 'localhost/nolayer:1', { 'extra.txt': Buffer.from('x') });
    rmSync(new ContentStore(root).path(layer.digest));
    const r = skiff('b', 'images');
    assert.equal(r.code, 0, r.err);
    const bb = await expected('b', 'localhost/busybox:latest');
    const content = new ContentStore(root);
    const nolayer = (await content.readJson<{ config: Descriptor }>((await new ImageStore(root).get('localhost/nolayer:1'))!.target.digest)).config;
    assert.deepEqual(lines(r.out).slice(1).map((l) => l.split(/ {3,}/)), [
      ['localhost/busybox', 'latest', bb.id, '56 years ago', bb.size],
      ['localhost/nolayer', '1', nolayer.digest.slice(7, 19), '56 years ago', 'N/A'],
      ['localhost/noconfig', '1', noConfig.config.digest.slice(7, 19), 'N/A', 'N/A'],
    ]);
    assert.deepEqual(lines(r.err), [
      `skiff: warning: image "localhost/nolayer:1": layers[1] blob ${layer.digest} is not in the content store`,
      `skiff: warning: image "localhost/noconfig:1": blob ${noConfig.config.digest} is not in the content store`,
    ]);
    assert.equal(lines(skiff('b', 'images', '-q').out).length, 3);
    assert.equal(skiff('b', 'rmi', 'localhost/noconfig:1', 'localhost/nolayer:1').code, 0);
    assert.equal(skiff('b', 'images').err, '');
  });
});

describe('skiff tag', () => {
  test('by name or image ID (a prefix of 4 or more hex digits); a target with a digest is refused', async () => {
    const bb = await expected('a', 'localhost/busybox:latest');
    ok('a', 'tag', bb.id, 'localhost/byid:1');
    ok('a', 'tag', `sha256:${bb.config.slice(7)}`, 'localhost/byfullid:1');
    ok('a', 'tag', bb.id.slice(0, 4), 'localhost/byprefix:1');
    for (const n of ['byid', 'byfullid', 'byprefix']) assert.equal((await expected('a', `localhost/${n}:1`)).manifest, bb.manifest);
    assert.match(skiff('a', 'tag', bb.id.slice(0, 3), 'localhost/short:1').err, /^skiff: image "[a-f0-9]{3}" \(docker\.io\/library\/[a-f0-9]{3}:latest\) is not in the local store\n$/);
    const withDigest = skiff('a', 'tag', 'localhost/busybox', `localhost/pinned@sha256:${'a'.repeat(64)}`);
    assert.equal(withDigest.code, 1);
    assert.equal(withDigest.err, `skiff: tag: refusing to create a tag with a digest reference ("localhost/pinned@sha256:${'a'.repeat(64)}")\n`);
    assert.ok(!ok('a', 'images').includes('pinned'));
    assert.ok(!readFileSync(join(rootOf('a'), 'content', 'index.json'), 'utf8').includes('pinned'));
    assert.match(skiff('a', 'tag', 'localhost/busybox', 'localhost/Bad').err, /^skiff: invalid image reference "localhost\/Bad"/);
  });

  test('a 255-character repository with a 128-character tag: tagged, listed, inspected, removed', () => {
    const repo = `localhost/${'a'.repeat(100)}/${'b'.repeat(144)}`;
    const name = `${repo}:${'t'.repeat(128)}`;
    ok('c', 'tag', 'localhost/busybox', name);
    assert.ok(lines(ok('c', 'images', '--format', '{{.Repository}}:{{.Tag}}')).includes(name));
    assert.deepEqual(JSON.parse(ok('c', 'image', 'inspect', name))[0].RepoTags, [name, 'localhost/busybox:latest']);
    assert.equal(ok('c', 'rmi', name), `Untagged: ${name}\n`);
  });
});

describe('skiff image inspect', () => {
  test('docker\'s shape; several images; an unknown one is an error line after the ones found', async () => {
    const root = rootOf('d');
    const cfg = {
      User: 'daemon', ExposedPorts: { '80/tcp': {} }, Env: ['A=1'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Volumes: { '/data': {} },
      WorkingDir: '/srv', Labels: { team: 'x' }, StopSignal: 'SIGQUIT', Healthcheck: { Test: ['CMD', 'true'] },
    };
    const v = await imageVariant(root, 'localhost/app:1', { created: '2024-05-01T10:00:00Z', author: 'Skiff Tester', variant: 'v2', config: cfg });
    ok('d', 'tag', 'localhost/app:1', '127.0.0.1:5000/team/app:2');
    const bb = await expected('d', 'localhost/busybox:latest');
    const content = new ContentStore(root);
    const diffIds = (await content.readJson<{ rootfs: { diff_ids: string[] } }>(v.config.digest)).rootfs.diff_ids;
    const [app, busybox] = JSON.parse(ok('d', 'image', 'inspect', 'localhost/app:1', bb.id)) as Record<string, unknown>[];
    assert.deepEqual(app, {
      Id: v.config.digest, RepoTags: ['127.0.0.1:5000/team/app:2', 'localhost/app:1'],
      RepoDigests: [`127.0.0.1:5000/team/app@${v.manifest.digest}`, `localhost/app@${v.manifest.digest}`],
      Parent: '', Comment: '', Created: '2024-05-01T10:00:00Z', DockerVersion: '', Author: 'Skiff Tester', Config: cfg,
      Architecture: 'amd64', Variant: 'v2', Os: 'linux',
      Size: v.manifest.size + v.config.size + statSync(content.path((await content.readJson<{ layers: Descriptor[] }>(v.manifest.digest)).layers[0].digest)).size,
      RootFS: { Type: 'layers', Layers: diffIds },
      Metadata: { LastTagTime: (await new ImageStore(root).get('localhost/app:1'))!.updated },
      Descriptor: { mediaType: MEDIA_TYPES.ociManifest, digest: v.manifest.digest, size: v.manifest.size },
    });
    assert.equal(busybox.Id, bb.config);
    assert.deepEqual((busybox.Config as Record<string, unknown>).Cmd, ['sh']);
    const r = skiff('d', 'image', 'inspect', 'localhost/nope:1', 'localhost/app:1');
    assert.equal(r.code, 1);
    assert.deepEqual((JSON.parse(r.out) as { Id: string }[]).map((i) => i.Id), [v.config.digest]);
    assert.equal(r.err, 'skiff: image "localhost/nope:1" (localhost/nope:1) is not in the local store\n');
    const none = skiff('d', 'image', 'inspect', 'localhost/nope:1');
    assert.deepEqual([none.code, JSON.parse(none.out)], [1, []]);
  });
});

describe('skiff rmi', () => {
  test('each name on its own: what can be removed is, each failure one line, exit 1', () => {
    ok('e', 'tag', 'localhost/busybox', 'localhost/other:1');
    ok('e', 'tag', 'localhost/busybox', 'localhost/third:1');
    const r = skiff('e', 'rmi', 'localhost/other:1', 'localhost/nope:1', 'localhost/third:1');
    assert.equal(r.code, 1);
    assert.equal(r.out, 'Untagged: localhost/other:1\nUntagged: localhost/third:1\n');
    assert.equal(r.err, 'skiff: image "localhost/nope:1" (localhost/nope:1) is not in the local store\n');
    assert.deepEqual(lines(ok('e', 'images', '--format', '{{.Repository}}:{{.Tag}}')), ['localhost/busybox:latest']);
  });

  test('an image an image mount uses is refused unless -f; by ID: the only name, several refused unless -f', async () => {
    const bb = await expected('e', 'localhost/busybox:latest');
    const path = ok('e', 'image', 'mount', 'localhost/busybox').trim();
    const refused = skiff('e', 'rmi', 'localhost/busybox');
    assert.equal(refused.code, 1);
    assert.equal(refused.err, `skiff: conflict: unable to remove repository reference "localhost/busybox" (must force) - image mount ${path} is using its referenced image ${bb.id}\n`);
    // Not its last name: removing it leaves the image, so nothing guards it (docker's rule).
    ok('e', 'tag', 'localhost/busybox', 'localhost/alias:1');
    assert.equal(ok('e', 'rmi', 'localhost/alias:1'), 'Untagged: localhost/alias:1\n');
    ok('e', 'tag', 'localhost/busybox', '127.0.0.1:5000/elsewhere:1');
    assert.equal(skiff('e', 'rmi', bb.id).err, `skiff: conflict: unable to delete ${bb.id} (must be forced) - image is referenced in multiple repositories\n`);
    assert.equal(skiff('e', 'rmi', bb.id.slice(0, 6), '-f').out, `Untagged: 127.0.0.1:5000/elsewhere:1\nUntagged: localhost/busybox:latest\nDeleted: ${bb.config}\n`);
    assert.ok(readFileSync(join(path, 'etc/passwd'), 'utf8').startsWith('root:'), 'the mount keeps its layers');
    ok('e', 'image', 'unmount', 'localhost/busybox');
    ok('e', 'image', 'prune');
    assert.deepEqual(readdirSync(join(rootOf('e'), 'snapshots')), []);
    assert.deepEqual(readdirSync(join(rootOf('e'), 'content', 'blobs', 'sha256')), []);
    // Removed, the built-in image is not made again by rmi; a command that reads it makes it again.
    assert.match(skiff('e', 'rmi', 'localhost/busybox').err, /^skiff: image "localhost\/busybox" \(localhost\/busybox:latest\) is not in the local store\n$/);
    assert.deepEqual(readdirSync(join(rootOf('e'), 'content', 'blobs', 'sha256')), []);
  });

  test('an image a running container uses is refused unless -f', async () => {
    ok('e', 'image', 'inspect', 'localhost/busybox');
    assert.equal(lines(ok('e', 'images', '-q')).length, 1);
    const id = (await expected('e', 'localhost/busybox:latest')).id;
    const run = spawn(process.execPath, argv('e', ['run', '--rm', '--name', 'user1', 'localhost/busybox', 'sleep', '3']), { stdio: 'ignore' });
    const exited = new Promise((r) => run.on('exit', r));
    // As docker, the container is named by its short ID.
    const containers = join(rootOf('e'), 'containers');
    let user = '';
    while (!user) {
      user = (existsSync(containers) ? readdirSync(containers) : []).find((d) => /^[0-9a-f]{64}$/.test(d) && existsSync(join(containers, d, 'snapshots.json'))) ?? '';
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(skiff('e', 'rmi', 'localhost/busybox').err,
      `skiff: conflict: unable to remove repository reference "localhost/busybox" (must force) - container ${user.slice(0, 12)} is using its referenced image ${id}\n`);
    assert.match(skiff('e', 'rmi', id).err, new RegExp(`^skiff: conflict: unable to delete ${id} \\(must be forced\\) - image is being used by container ${user.slice(0, 12)}\n$`));
    await exited;
    assert.match(ok('e', 'rmi', id), new RegExp(`^Untagged: localhost/busybox:latest\nDeleted: sha256:${id}`));
  });

  test('an ID prefix two images share is ambiguous', async () => {
    const root = rootOf('f');
    const content = new ContentStore(root);
    const base = await content.readJson<Record<string, unknown>>((await content.readJson<{ config: Descriptor }>((await buildDefaultImage(root)).digest)).config.digest);
    // Two configs whose digests share their first 4 hex digits (a few hundred tries, by the birthday bound).
    const seen = new Map<string, number>();
    let pair: [number, number] | undefined;
    for (let i = 0; !pair; i++) {
      const hex = createHash('sha256').update(JSON.stringify({ ...base, author: String(i) })).digest('hex').slice(0, 4);
      if (seen.has(hex)) pair = [seen.get(hex)!, i];
      seen.set(hex, i);
    }
    const [a, b] = await Promise.all(pair.map((i) => imageVariant(root, `localhost/twin${i}:1`, { author: String(i) })));
    const prefix = a.config.digest.slice(7, 11);
    assert.equal(b.config.digest.slice(7, 11), prefix);
    const r = skiff('f', 'rmi', prefix);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^skiff: image ID prefix "${prefix}" is ambiguous: ([a-f0-9]{12}, [a-f0-9]{12}) all start with it\n$`));
    assert.equal(ok('f', 'rmi', a.config.digest.slice(7, 19)), `Untagged: localhost/twin${pair[0]}:1\nDeleted: ${a.config.digest}\n`);
  });
});

describe('content/index.json', () => {
  test('lists every name, so skopeo reads the store as an OCI layout', () => {
    const layout = join(rootOf('a'), 'content');
    const digest = ok('a', 'images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}').split('\n').find((l) => l.startsWith('localhost/other:1 '))!.split(' ')[1];
    const inspect = spawnSync('skopeo', ['inspect', `oci:${layout}:localhost/other:1`], { encoding: 'utf8' });
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).Digest, digest);
    const copy = spawnSync('skopeo', ['copy', `oci:${layout}:localhost/other:1`, `oci:${join(dir, 'copied')}:x`], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    ok('a', 'rmi', 'localhost/other:1');
    const gone = spawnSync('skopeo', ['inspect', `oci:${layout}:localhost/other:1`], { encoding: 'utf8' });
    assert.notEqual(gone.status, 0);
    assert.match(gone.stderr, /no descriptor found for reference \W+localhost\/other:1/);
  });
});

describe('skiff image mount', () => {
  test('--writable over a read-only mount is refused; a mount gone from outside is made again', () => {
    const ro = ok('g', 'image', 'mount', 'localhost/busybox').trim();
    const again = skiff('g', 'image', 'mount', '--writable', 'localhost/busybox');
    assert.equal(again.code, 1);
    assert.equal(again.err, `skiff: image "localhost/busybox" is mounted read-only at ${ro}; unmount it first (skiff image unmount localhost/busybox) to mount it writable\n`);
    assert.throws(() => writeFileSync(join(ro, 'x'), ''), /EROFS/);
    assert.equal(spawnSync('umount', [ro]).status, 0);
    assert.deepEqual(readdirSync(ro), [], 'an outside umount leaves an empty directory');
    assert.equal(ok('g', 'image', 'mount', 'localhost/busybox').trim(), ro);
    assert.equal(mountedUnder(ro).length, 1);
    assert.ok(existsSync(join(ro, 'etc/passwd')));
    ok('g', 'image', 'unmount', 'localhost/busybox');

    const id = lines(ok('g', 'images', '-q'))[0];
    const rw = ok('g', 'image', 'mount', '--writable', id).trim();
    writeFileSync(join(rw, 'scratch'), 'x');
    assert.match(skiff('g', 'image', 'mount', 'localhost/busybox').err, /is mounted writable at .*; unmount it first .* to mount it read-only\n$/);
    assert.equal(ok('g', 'image', 'mount', '--writable', 'localhost/busybox').trim(), rw);
    assert.equal(spawnSync('umount', [rw]).status, 0);
    assert.equal(ok('g', 'image', 'mount', '--writable', 'localhost/busybox').trim(), rw);
    assert.ok(existsSync(join(rw, 'etc/passwd')) && !existsSync(join(rw, 'scratch')), 'mounted again, fresh');
    assert.equal(spawnSync('umount', [rw]).status, 0);
    ok('g', 'image', 'unmount', id);
    // A mount killed half way leaves its directory without a record: the next mount clears it first.
    mkdirSync(rw, { recursive: true });
    writeFileSync(join(rw, '..', 'snapshots.json'), '[]');
    assert.equal(ok('g', 'image', 'mount', 'localhost/busybox').trim(), rw);
    assert.ok(existsSync(join(rw, 'etc/passwd')));
    ok('g', 'image', 'unmount', 'localhost/busybox');
    assert.deepEqual(readdirSync(join(rootOf('g'), 'containers')), []);
    assert.deepEqual(mountedUnder(dir), []);
  });
});
