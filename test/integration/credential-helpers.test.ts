// Credential helpers end to end, with the tests' own helper (test/fixtures/credential-helper.ts: a real program
// speaking docker-credential-helpers' protocol, its secrets in a JSON file, since the real helpers need a desktop
// keyring or gpg agent), against Debian's docker-registry with Basic auth and with token auth: login stores
// through the helper and config.json keeps no secret, pull reads it, logout erases it; a helper that is not
// installed is one warning and an anonymous pull, and a 401 then says why; an identity token from the helper is
// exchanged at the token server with the OAuth2 refresh-token grant; docker.io logins are under docker's key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installCredentialHelper, type TestCredentialHelper } from '../helpers/credential-helper.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-credhelpers-'));
const bin = join(dir, 'bin');
const user = { name: 'skiffy', password: 's3cret-pw' };
const refreshToken = 'refresh-7f3a';

// Asynchronous children only: the token server answers from this process's event loop.
const run = (cmd: string, argv: string[], input = '') => {
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdin!.end(input);
  return new Promise<{ code: number | null; out: string; err: string }>((r) => child.on('close', (code) => r({ code, out, err })));
};
const skiff = (root: string, ...args: string[]) => run(process.execPath, [skiffBin, '--root', join(dir, root), '--state', join(dir, `${root}-state`), ...args]);
const login = (root: string, authfile: string, registry: string, password = user.password) => run(process.execPath,
  [skiffBin, '--root', join(dir, root), 'login', '-u', user.name, '--password-stdin', '--authfile', authfile, registry], `${password}\n`);
const writeJson = (path: string, value: unknown) => writeFileSync(path, JSON.stringify(value));
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let open: TestRegistry;
let locked: TestRegistry;
let tokens: TokenServer;
let tokenRegistry: TestRegistry;
let helper: TestCredentialHelper;

before(async () => {
  helper = installCredentialHelper(bin, 'skiff-test');
  open = await startRegistry();
  locked = await startRegistry(user);
  tokens = await startTokenServer(dir, { ...user, refreshToken });
  tokenRegistry = await startRegistry(undefined, tokens.settings);
  assert.equal((await skiff('src', 'save', '-o', join(dir, 'bb.tar'), 'localhost/busybox')).code, 0);
  for (const [registry, creds] of [[open, []], [locked, ['--dest-creds', `${user.name}:${user.password}`]], [tokenRegistry, ['--dest-creds', `${user.name}:${user.password}`]]] as const) {
    const push = await run('skopeo', ['copy', '--dest-tls-verify=false', ...creds, `oci-archive:${join(dir, 'bb.tar')}`, `docker://${registry.address}/private/bb:1`]);
    assert.equal(push.code, 0, push.err);
  }
});

after(async () => {
  await Promise.all([open, locked, tokenRegistry].map((r) => r?.stop()));
  await tokens?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('credential helpers', () => {
  test('a helper that is not installed: one warning, a public image still pulls, a private one says why it is refused', async () => {
    const authfile = join(dir, 'absent.json');
    writeJson(authfile, { credsStore: 'skiff-absent' });
    const warning = (host: string) => `warning: credential helper docker-credential-skiff-absent (credsStore in ${authfile}) is not installed; continuing without credentials for ${host}\n`;
    const pub = await skiff('absent', 'pull', '-q', '--authfile', authfile, `${open.address}/private/bb:1`);
    assert.equal(pub.code, 0, pub.err);
    assert.equal(pub.err, warning(open.address));
    const priv = await skiff('absent', 'pull', '--authfile', authfile, `${locked.address}/private/bb:1`);
    assert.equal(priv.code, 1);
    assert.equal(priv.err, warning(locked.address) + `skiff: ${locked.address}: the registry requires authentication (skiff login): HTTP 401 `
      + `(no credentials were read: credential helper docker-credential-skiff-absent (credsStore in ${authfile}) is not installed)\n`);
  });

  test('login stores through the helper (no secret in the file), pull reads it, logout erases it', async () => {
    const authfile = join(dir, 'store.json');
    writeJson(authfile, { credsStore: 'skiff-test' });
    const ok = await login('store', authfile, locked.address);
    assert.equal(ok.out, 'Login Succeeded\n', ok.err);
    assert.deepEqual(readJson(helper.store)[locked.address], { Username: user.name, Secret: user.password });
    const file = readFileSync(authfile, 'utf8');
    assert.deepEqual((JSON.parse(file) as { auths: unknown }).auths, { [locked.address]: {} });
    assert.doesNotMatch(file, new RegExp(`${escape(user.password)}|${escape(Buffer.from(`${user.name}:${user.password}`).toString('base64'))}`));

    const p = await skiff('store', 'pull', '-q', '--authfile', authfile, `${locked.address}/private/bb:1`);
    assert.equal(p.code, 0, p.err);
    assert.ok(helper.calls().some((c) => c.action === 'get' && c.input === locked.address), JSON.stringify(helper.calls()));

    const out = await run(process.execPath, [skiffBin, 'logout', '--authfile', authfile, locked.address]);
    assert.equal(out.out, `Removing login credentials for ${locked.address}\n`, out.err);
    assert.equal(readJson(helper.store)[locked.address], undefined);
    assert.deepEqual(readJson(authfile).auths, {});
    const again = await run(process.execPath, [skiffBin, 'logout', '--authfile', authfile, locked.address]);
    assert.equal(again.code, 0);
    assert.equal(again.out, `Not logged in to ${locked.address}\n`);
  });

  test('credHelpers for the host comes before credsStore', async () => {
    const authfile = join(dir, 'per-host.json');
    writeJson(helper.store, { [locked.address]: { Username: user.name, Secret: user.password } });
    writeJson(authfile, { credsStore: 'skiff-absent', credHelpers: { [locked.address]: 'skiff-test' } });
    const p = await skiff('per-host', 'pull', '-q', '--authfile', authfile, `${locked.address}/private/bb:1`);
    assert.equal(p.code, 0, p.err);
    assert.equal(p.err, '', 'the credsStore is not asked');
  });

  test('an identity token ("<token>") is exchanged at the token server with the refresh-token grant', async () => {
    const authfile = join(dir, 'identity.json');
    writeJson(authfile, { credsStore: 'skiff-test' });
    writeJson(helper.store, { [tokenRegistry.address]: { Username: '<token>', Secret: refreshToken } });
    tokens.requests.length = 0;
    const p = await skiff('identity', 'pull', '-q', '--authfile', authfile, `${tokenRegistry.address}/private/bb:1`);
    assert.equal(p.code, 0, p.err);
    assert.ok(tokens.requests.some((t) => t.grant === 'refresh_token' && t.user === user.name && t.scopes.includes('repository:private/bb:pull')), JSON.stringify(tokens.requests));
    assert.ok(tokens.requests.every((t) => t.grant === 'refresh_token'), 'never sent as Basic');

    writeJson(helper.store, { [tokenRegistry.address]: { Username: '<token>', Secret: 'revoked' } });
    const r = await skiff('identity2', 'pull', '--authfile', authfile, `${tokenRegistry.address}/private/bb:1`);
    assert.equal(r.code, 1);
    assert.match(r.err, /^skiff: 127\.0\.0\.1:\d+: the token server http:\/\/127\.0\.0\.1:\d+ refused the identity token: HTTP 401\n$/);
  });

  test('docker.io: the login is stored under "https://index.docker.io/v1/", in the file or the helper, and pulls read it', async () => {
    // docker.io's API at the local registry: nothing leaves 127.0.0.1.
    for (const root of ['hub', 'hub2']) {
      mkdirSync(join(dir, root), { recursive: true });
      writeJson(join(dir, root, 'registries.json'), { registries: { 'docker.io': { endpoint: `http://${locked.address}` } } });
    }
    const authfile = join(dir, 'hub.json');
    assert.equal((await run(process.execPath, [skiffBin, 'logout', '--authfile', authfile, 'docker.io'])).out, 'Not logged in to docker.io\n');
    const ok = await login('hub', authfile, 'docker.io');
    assert.equal(ok.out, 'Login Succeeded\n', ok.err);
    assert.deepEqual(Object.keys(readJson(authfile).auths as object), ['https://index.docker.io/v1/']);
    const p = await skiff('hub', 'pull', '-q', '--authfile', authfile, 'docker.io/private/bb:1');
    assert.equal(p.code, 0, p.err);
    assert.equal(p.out, 'docker.io/private/bb:1\n');

    const viaHelper = join(dir, 'hub-helper.json');
    writeJson(viaHelper, { credsStore: 'skiff-test' });
    writeJson(helper.store, {});
    assert.equal((await login('hub', viaHelper, 'https://index.docker.io/v1/')).code, 0);
    assert.deepEqual(Object.keys(readJson(helper.store)), ['https://index.docker.io/v1/']);
    assert.equal((await skiff('hub2', 'pull', '-q', '--authfile', viaHelper, 'docker.io/private/bb:1')).code, 0);
    assert.ok(helper.calls().some((c) => c.action === 'get' && c.input === 'https://index.docker.io/v1/'));
  });
});
