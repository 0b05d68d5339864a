// Token authentication against Debian's docker-registry (auth: token) and a token server in the fixtures: skopeo
// pushes with credentials; skiff is refused anonymously, checks a login, pulls and runs, pushes with a
// pull,push scope that skopeo reads back; the token server saw the scopes skiff asked for.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

const skiffBin = fileURLToPath(new URL('../../bin/skiff.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'skiff-token-'));
const authfile = join(dir, 'auth.json');
const user = { name: 'tokenuser', password: 'tok3n-pass' };

// Asynchronous children only: the token server answers from this process's event loop.
const run = (cmd: string, argv: string[], input?: string) => {
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  child.stdin!.end(input ?? '');
  return new Promise<{ code: number | null; out: string; err: string }>((r) => child.on('close', (code) => r({ code, out, err })));
};
const skiff = (...args: string[]) => run(process.execPath, [skiffBin, '--root', join(dir, 'root'), '--state', join(dir, 'state'), ...args]);
const login = (password: string) => run(process.execPath, [skiffBin, 'login', '-u', user.name, '--password-stdin', '--authfile', authfile, registry.address], `${password}\n`);

let tokens: TokenServer;
let registry: TestRegistry;
let ref: string;

before(async () => {
  tokens = await startTokenServer(dir, user);
  registry = await startRegistry(undefined, tokens.settings);
  ref = `${registry.address}/team/bb:1`;
  assert.equal((await run(process.execPath, [skiffBin, '--root', join(dir, 'src'), 'save', '-o', join(dir, 'bb.tar'), 'localhost/busybox'])).code, 0);
  const push = await run('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', `${user.name}:${user.password}`, `oci-archive:${join(dir, 'bb.tar')}`, `docker://${ref}`]);
  assert.equal(push.code, 0, push.err);
});

after(async () => {
  await registry?.stop();
  await tokens?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a registry with token authentication', () => {
  test('anonymous: refused with one line naming the registry, no image left', async () => {
    const r = await skiff('pull', '--authfile', authfile, ref);
    assert.equal(r.code, 1);
    assert.equal(r.err, `skiff: ${registry.address}: the registry requires authentication (skiff login): HTTP 401\n`);
    assert.equal((await skiff('images', '-q')).out, '');
  });

  test('login: a wrong password is refused by the token server and nothing is written', async () => {
    const r = await login('wrong');
    assert.equal(r.code, 1);
    assert.match(r.err, /^skiff: 127\.0\.0\.1:\d+: the token server http:\/\/127\.0\.0\.1:\d+ refused the credentials of "tokenuser": HTTP 401\n$/);
    assert.ok(!existsSync(authfile));
  });

  test('after login: pull (scope pull) and run; push (scope pull,push) read back by skopeo', async () => {
    const ok = await login(user.password);
    assert.equal(ok.out, 'Login Succeeded\n', ok.err);
    tokens.requests.length = 0;
    const p = await skiff('pull', '-q', '--authfile', authfile, ref);
    assert.equal(p.code, 0, p.err);
    assert.ok(tokens.requests.some((t) => t.user === user.name && t.scopes.includes('repository:team/bb:pull')), JSON.stringify(tokens.requests));
    const r = await skiff('run', '--rm', ref, 'echo', 'token pulled');
    assert.equal(r.out, 'token pulled\n', r.err);

    const pushed = `${registry.address}/team/pushed:2`;
    assert.equal((await skiff('tag', ref, pushed)).code, 0);
    tokens.requests.length = 0;
    const push = await skiff('push', '--authfile', authfile, pushed);
    assert.equal(push.code, 0, push.err);
    assert.ok(tokens.requests.some((t) => t.scopes.includes('repository:team/pushed:pull,push')), JSON.stringify(tokens.requests));
    const inspect = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${user.name}:${user.password}`, `docker://${pushed}`]);
    assert.equal(inspect.code, 0, inspect.err);
    assert.equal((JSON.parse(inspect.out) as { Digest: string }).Digest, push.out.trim().split('@')[1]);
    assert.match(readFileSync(authfile, 'utf8'), new RegExp(registry.address.replace(/\./g, '\\.')));
  });
});
