// skiffd's ImageService against real registries (Debian's docker-registry on 127.0.0.1: anonymous, Basic auth,
// and Bearer tokens from a token server), driven by crictl and by our own gRPC client: pulls with the kubelet's
// AuthConfig, the images the skiff CLI sees in the same store, containerd's ids, tags, digests, size and user, the
// lookups by name, digest and ID, removal, and the image filesystem's usage.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { status, type ServiceError } from '@grpc/grpc-js';
import { spawnCollecting } from '../helpers/async-child.js';
import { criClient, type CriClient } from '../helpers/cri-client.js';
import { crictl } from '../helpers/crictl.js';
import { imageVariant } from '../helpers/image-variant.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startSkiffd, stopAndClean, type TestSkiffd } from '../helpers/skiffd.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-cri-images-'));
const src = join(dir, 'src');
const skiff = (root: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [skiffBin, '--root', root, '--state', `${root}-state`, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
/** skopeo, without blocking this process: the token server it asks runs here. */
const skopeo = async (...args: string[]) => {
  const r = await spawnCollecting('skopeo', args).done;
  assert.equal(r.code, 0, r.err);
};
const user = { name: 'cri', password: 'secret', refreshToken: 'refresh-me' };
let open: TestRegistry, basic: TestRegistry, bearer: TestRegistry, tokens: TokenServer;
let skiffd: TestSkiffd;
let cri: CriClient;

/** Pushes the store's `name` to `target` (a docker:// reference), with `creds` if given. */
async function push(name: string, target: string, creds?: string): Promise<void> {
  const archive = join(dir, `${name.replace(/\W/g, '_')}.tar`);
  skiff(src, 'save', '-o', archive, name);
  await skopeo('copy', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci-archive:${archive}`, `docker://${target}`);
}

const errorOf = async (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: ServiceError) => e);

before(async () => {
  [open, basic] = await Promise.all([startRegistry(), startRegistry(user)]);
  tokens = await startTokenServer(dir, user);
  bearer = await startRegistry(undefined, tokens.settings);
  skiff(src, 'tag', 'localhost/busybox:latest', 'cri/bb:1');
  await imageVariant(src, 'docker.io/cri/uid:1', { config: { Cmd: ['sh'], User: '1000:100' } });
  await imageVariant(src, 'docker.io/cri/user:1', { config: { Cmd: ['sh'], User: 'daemon' } });
  // Images of their own ID each: removing one by name removes its ID's every name.
  await imageVariant(src, 'docker.io/cri/private:1', { config: { Cmd: ['sh'], Env: ['IMAGE=private'] } });
  await imageVariant(src, 'docker.io/cri/tok:1', { config: { Cmd: ['sh'], Env: ['IMAGE=tok'] } });
  await push('cri/bb:1', `${open.address}/cri/bb:1`);
  await push('cri/uid:1', `${open.address}/cri/uid:1`);
  await push('cri/user:1', `${open.address}/cri/user:1`);
  await push('cri/private:1', `${basic.address}/cri/private:1`, `${user.name}:${user.password}`);
  await push('cri/tok:1', `${bearer.address}/cri/tok:1`, `${user.name}:${user.password}`);
  skiffd = await startSkiffd();
  cri = criClient(skiffd.socket);
});

after(async () => {
  cri?.close();
  if (skiffd) await stopAndClean(skiffd);
  await Promise.all([open?.stop(), basic?.stop(), bearer?.stop(), tokens?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('skiffd ImageService', () => {
  test('crictl pull, images and inspecti show the image as skiff image inspect does, in the same store', () => {
    const ref = `${open.address}/cri/bb:1`;
    const pulled = crictl(skiffd.socket, ['pull', ref]);
    assert.equal(pulled.code, 0, pulled.err);
    const inspect = JSON.parse(skiff(skiffd.root, 'image', 'inspect', ref))[0] as { Id: string; RepoTags: string[]; RepoDigests: string[]; Size: number };
    assert.equal(pulled.out.trim(), `Image is up to date for ${inspect.Id}`);
    const listed = JSON.parse(crictl(skiffd.socket, ['images', '-o', 'json']).out) as { images: Record<string, unknown>[] };
    assert.deepEqual(listed.images, [{
      id: inspect.Id, repoTags: [ref], repoDigests: inspect.RepoDigests, size: String(inspect.Size), uid: null, username: '', spec: null, pinned: false,
    }]);
    assert.match(inspect.RepoDigests[0], new RegExp(`^${open.address}/cri/bb@sha256:[a-f0-9]{64}$`));
    const table = crictl(skiffd.socket, ['images']).out.split('\n')[1].split(/\s+/);
    assert.deepEqual(table.slice(0, 3), [`${open.address}/cri/bb`, '1', inspect.Id.slice(7, 20)]);
    const status = JSON.parse(crictl(skiffd.socket, ['inspecti', ref]).out) as { status: { id: string }; info: { chainID: string; imageSpec: { rootfs: { diff_ids: string[] } } } };
    assert.equal(status.status.id, inspect.Id);
    // One layer: its chain ID is its diff ID.
    assert.equal(status.info.chainID, status.info.imageSpec.rootfs.diff_ids[0]);
  });

  test("uid and username come from the image config's User, as containerd reads it", async () => {
    for (const name of ['uid', 'user']) assert.equal(crictl(skiffd.socket, ['pull', `${open.address}/cri/${name}:1`]).code, 0);
    const uid = (await cri.image.ImageStatus({ image: { image: `${open.address}/cri/uid:1` } })).image!;
    assert.deepEqual([uid.uid, uid.username], [{ value: '1000' }, '']);
    const named = (await cri.image.ImageStatus({ image: { image: `${open.address}/cri/user:1` } })).image!;
    assert.deepEqual([named.uid, named.username], [null, 'daemon']);
    const root = (await cri.image.ImageStatus({ image: { image: `${open.address}/cri/bb:1` } })).image!;
    assert.deepEqual([root.uid, root.username], [null, '']);
  });

  test('an image is found by name, name@digest, full ID and ID prefix; a ListImages filter narrows to it', async () => {
    const ref = `${open.address}/cri/bb:1`;
    const image = (await cri.image.ImageStatus({ image: { image: ref }, verbose: false })).image!;
    for (const spelling of [image.repo_digests[0], image.id, image.id.slice(7), image.id.slice(7, 19)]) {
      const found = await cri.image.ImageStatus({ image: { image: spelling } });
      assert.equal(found.image?.id, image.id, spelling);
      assert.deepEqual(found.info, {}, 'no info without verbose');
    }
    const filtered = await cri.image.ListImages({ filter: { image: { image: image.repo_digests[0] } } });
    assert.deepEqual(filtered.images!.map((i) => i.id), [image.id]);
    assert.equal((await cri.image.ListImages({})).images!.length, 3);
    assert.deepEqual((await cri.image.ListImages({ filter: { image: { image: `${open.address}/cri/none:1` } } })).images, []);
  });

  test('an absent image has no status; a bad reference is INVALID_ARGUMENT naming the field', async () => {
    assert.deepEqual(await cri.image.ImageStatus({ image: { image: `${open.address}/cri/absent:1` } }), { image: null, info: {} });
    const bad = await errorOf(cri.image.ImageStatus({ image: { image: 'Bad Name' } }));
    assert.equal(bad.code, status.INVALID_ARGUMENT);
    assert.match(bad.details, /^image\.image: invalid image reference "Bad Name"/);
    const none = await errorOf(cri.image.PullImage({ image: { image: '' } }));
    assert.deepEqual([none.code, none.details], [status.INVALID_ARGUMENT, 'image.image: no image named']);
  });

  test('a tag the registry lacks is NOT_FOUND; a registry that is not there is UNKNOWN, naming it', async () => {
    const missing = await errorOf(cri.image.PullImage({ image: { image: `${open.address}/cri/bb:nope` } }));
    assert.equal(missing.code, status.NOT_FOUND);
    assert.match(missing.details, /nope/);
    const crictlMissing = crictl(skiffd.socket, ['pull', `${open.address}/cri/bb:nope`]);
    assert.notEqual(crictlMissing.code, 0);
    assert.match(crictlMissing.err, /code = NotFound/);
    const away = await errorOf(cri.image.PullImage({ image: { image: '127.0.0.1:1/cri/bb:1' } }));
    assert.equal(away.code, status.UNKNOWN);
    assert.match(away.details, /127\.0\.0\.1:1: cannot reach the registry/);
  });

  test("the kubelet's AuthConfig: username and password, auth, server_address of another registry, a wrong password", async () => {
    const ref = `${basic.address}/cri/private:1`;
    const viaCrictl = crictl(skiffd.socket, ['pull', '--creds', `${user.name}:${user.password}`, ref]);
    assert.equal(viaCrictl.code, 0, viaCrictl.err);
    await cri.image.RemoveImage({ image: { image: ref } });
    const auth = Buffer.from(`${user.name}:${user.password}`).toString('base64');
    const pulled = await cri.image.PullImage({ image: { image: ref }, auth: { auth, server_address: `https://${basic.address}/` } });
    assert.match(pulled.image_ref!, /^sha256:[a-f0-9]{64}$/);
    await cri.image.RemoveImage({ image: { image: ref } });
    const elsewhere = await errorOf(cri.image.PullImage({ image: { image: ref }, auth: { username: user.name, password: user.password, server_address: 'registry.example:5000' } }));
    assert.match(elsewhere.details, /requires authentication/, 'credentials for another registry are not sent');
    const wrong = await errorOf(cri.image.PullImage({ image: { image: ref }, auth: { username: user.name, password: 'wrong' } }));
    assert.equal(wrong.code, status.UNKNOWN);
    assert.match(wrong.details, /refused the credentials of "cri"/);
    const garbled = await errorOf(cri.image.PullImage({ image: { image: ref }, auth: { auth: Buffer.from('no-colon').toString('base64') } }));
    assert.deepEqual([garbled.code, garbled.details], [status.INVALID_ARGUMENT, 'auth.auth: not base64 of "username:password"']);
  });

  test('identity_token is exchanged at the token server; registry_token is sent as the bearer token', async () => {
    const ref = `${bearer.address}/cri/tok:1`;
    const viaIdentity = await cri.image.PullImage({ image: { image: ref }, auth: { identity_token: user.refreshToken } });
    assert.match(viaIdentity.image_ref!, /^sha256:/);
    assert.equal(tokens.requests.at(-1)?.grant, 'refresh_token');
    await cri.image.RemoveImage({ image: { image: ref } });
    const realm = new URL(tokens.settings.realm);
    realm.search = new URLSearchParams({ service: tokens.settings.service, scope: 'repository:cri/tok:pull' }).toString();
    const res = await fetch(realm, { headers: { Authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` } });
    const { token } = (await res.json()) as { token: string };
    const asked = tokens.requests.length;
    const viaToken = await cri.image.PullImage({ image: { image: ref }, auth: { registry_token: token } });
    assert.equal(viaToken.image_ref, viaIdentity.image_ref);
    assert.equal(tokens.requests.length, asked, 'the token server was not asked again');
    await cri.image.RemoveImage({ image: { image: ref } });
    const bad = await errorOf(cri.image.PullImage({ image: { image: ref }, auth: { registry_token: 'not-a-token' } }));
    assert.match(bad.details, /refused the registry token/);
  });

  test('RemoveImage removes every name of the image and what only it used; an absent image is removed already', async () => {
    const ref = `${open.address}/cri/bb:1`;
    skiff(skiffd.root, 'tag', ref, 'docker.io/cri/another:name');
    const { image } = await cri.image.ImageStatus({ image: { image: ref } });
    assert.deepEqual(image!.repo_tags.sort(), [ref, 'docker.io/cri/another:name'].sort());
    const before = await cri.image.ImageFsInfo({});
    const removed = crictl(skiffd.socket, ['rmi', ref]);
    assert.equal(removed.code, 0, removed.err);
    assert.deepEqual(await cri.image.ImageStatus({ image: { image: 'docker.io/cri/another:name' } }), { image: null, info: {} });
    assert.doesNotMatch(skiff(skiffd.root, 'images'), /cri\/bb|cri\/another/);
    const afterFs = await cri.image.ImageFsInfo({});
    assert.ok(Number(afterFs.image_filesystems![0].used_bytes!.value) < Number(before.image_filesystems![0].used_bytes!.value));
    assert.deepEqual(await cri.image.RemoveImage({ image: { image: ref } }), {});
    assert.deepEqual(await cri.image.RemoveImage({ image: { image: image!.id } }), {});
    // By ID, too.
    const uid = (await cri.image.ImageStatus({ image: { image: `${open.address}/cri/uid:1` } })).image!;
    assert.equal(crictl(skiffd.socket, ['rmi', uid.id.slice(7, 19)]).code, 0);
    assert.equal((await cri.image.ImageStatus({ image: { image: uid.id } })).image, null);
  });

  test('ImageFsInfo: the bytes and inodes of the content store and the unpacked layers, on the root filesystem', async () => {
    const { image_filesystems: [fs] } = await cri.image.ImageFsInfo({}) as { image_filesystems: [{ timestamp: string; fs_id: { mountpoint: string }; used_bytes: { value: string }; inodes_used: { value: string } }] };
    assert.equal(fs.fs_id.mountpoint, skiffd.root);
    const du = (flag: string) => Number(spawnSync('du', ['-s', flag, join(skiffd.root, 'content'), join(skiffd.root, 'snapshots')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split('\t')[0]), 0));
    assert.equal(Number(fs.used_bytes.value), du('-B1'));
    assert.equal(Number(fs.inodes_used.value), du('--inodes'));
    assert.ok(Math.abs(Number(BigInt(fs.timestamp) / 1_000_000n) - Date.now()) < 60_000);
  });
});
