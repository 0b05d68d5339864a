// Registry configuration (registries.json), WWW-Authenticate parsing, credential lookup (files and credential
// helpers: the tests' own helper program, test/fixtures/credential-helper.ts), TLS failure sorting and retries:
// the parts of the registry client that need no registry.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseChallenges } from '../../src/image/registry/auth.js';
import { findCredentials, lookupCredentials, removeCredentials, storeCredentials } from '../../src/image/registry/credentials.js';
import { DEFAULT_CONFIG, endpointsFor, loadRegistriesConfig, validateRegistriesConfig } from '../../src/image/registry/hosts.js';
import { tlsFailure } from '../../src/image/registry/tls.js';
import { TransientError, withRetries } from '../../src/image/registry/transfer.js';
import { installCredentialHelper } from '../helpers/credential-helper.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-regconf-'));
const savedPath = process.env.PATH;
after(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

test('endpoints: mirrors first for pulls only; plain HTTP for loopback and insecure hosts; docker.io API host', () => {
  const config = validateRegistriesConfig({
    registries: { 'docker.io': { mirrors: ['mirror.lan:5000', 'http://10.0.0.1:5000'] }, 'reg.lan': { insecure: true }, 'mirror.lan:5000': { insecure: true } },
  }, 'test');
  assert.deepEqual(endpointsFor(config, 'docker.io', 'pull'), [
    { host: 'mirror.lan:5000', origins: ['https://mirror.lan:5000', 'http://mirror.lan:5000'], mirror: true, tls: { insecure: true } },
    { host: '10.0.0.1:5000', origins: ['http://10.0.0.1:5000'], mirror: true },
    { host: 'docker.io', origins: ['https://registry-1.docker.io'], mirror: false },
  ]);
  assert.deepEqual(endpointsFor(config, 'docker.io', 'push'), [{ host: 'docker.io', origins: ['https://registry-1.docker.io'], mirror: false }]);
  assert.deepEqual(endpointsFor(config, 'reg.lan', 'pull')[0].origins, ['https://reg.lan', 'http://reg.lan']);
  assert.deepEqual(endpointsFor(DEFAULT_CONFIG, 'quay.io', 'pull')[0].origins, ['https://quay.io']);
  assert.deepEqual(endpointsFor(DEFAULT_CONFIG, '127.0.0.1:5000', 'pull')[0].origins, ['https://127.0.0.1:5000', 'http://127.0.0.1:5000']);
  assert.deepEqual(endpointsFor(DEFAULT_CONFIG, 'localhost:5000', 'pull')[0].origins, ['https://localhost:5000', 'http://localhost:5000']);
});

test('ca: a host\'s CA is read when the configuration is loaded, for its own endpoint and where it is a mirror', () => {
  const key = join(dir, 'ca-key.pem');
  const ca = join(dir, 'ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', ca, '-days', '1', '-subj', '/CN=skiff-test-ca'], { stdio: 'ignore' });
  const pem = readFileSync(ca, 'utf8');
  const config = validateRegistriesConfig({ registries: { 'corp.lan': { ca }, 'docker.io': { mirrors: ['https://corp.lan'] } } }, 'test');
  assert.equal(config.registries['corp.lan'].caCertificates, pem);
  assert.deepEqual(endpointsFor(config, 'corp.lan', 'pull'), [{ host: 'corp.lan', origins: ['https://corp.lan'], mirror: false, tls: { ca: pem } }]);
  assert.deepEqual(endpointsFor(config, 'docker.io', 'pull')[0], { host: 'corp.lan', origins: ['https://corp.lan'], mirror: true, tls: { ca: pem } });
  writeFileSync(join(dir, 'not-pem.txt'), 'hello\n');
  writeFileSync(join(dir, 'bad-pem.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  assert.throws(() => validateRegistriesConfig({
    registries: { a: { ca: 'ca.pem' }, b: { ca: join(dir, 'missing.pem') }, c: { ca: join(dir, 'not-pem.txt') }, d: { ca: join(dir, 'bad-pem.pem') }, e: { ca: 7 } },
  }, 'registries.json'), (err: Error) => {
    for (const m of [
      /registries\["a"\]\.ca: "ca\.pem" is not an absolute path/,
      /registries\["b"\]\.ca: cannot read .*missing\.pem: ENOENT/,
      /registries\["c"\]\.ca: .*not-pem\.txt holds no PEM certificate/,
      /registries\["d"\]\.ca: .*bad-pem\.pem: certificate 1 does not parse/,
      /registries\["e"\]\.ca: must be the path of a PEM file of CA certificates/,
    ]) assert.match(err.message, m);
    return true;
  });
});

test('TLS failures: an untrusted certificate and a failed handshake are not a reason for plain HTTP; a peer that is not TLS is', () => {
  const failed = (code: string, message: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });
  assert.deepEqual(tlsFailure(failed('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')), { kind: 'certificate', detail: 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)' });
  assert.equal(tlsFailure(failed('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"))?.kind, 'certificate');
  assert.equal(tlsFailure(failed('CERT_HAS_EXPIRED', 'certificate has expired'))?.kind, 'certificate');
  assert.equal(tlsFailure(failed('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'alert protocol version'))?.kind, 'handshake');
  assert.equal(tlsFailure(failed('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')), undefined);
  assert.equal(tlsFailure(failed('ECONNRESET', 'Client network socket disconnected before secure TLS connection was established')), undefined);
  assert.equal(tlsFailure(failed('ECONNREFUSED', 'connect ECONNREFUSED')), undefined);
});

test('registries.json: every bad field named by its path; no file is the defaults', () => {
  assert.deepEqual(loadRegistriesConfig(join(dir, 'none')), { ...DEFAULT_CONFIG, file: join(dir, 'none', 'registries.json') });
  assert.throws(() => validateRegistriesConfig({
    registries: { 'bad host!': {}, 'ok.lan': { insecure: 'yes', mirrors: ['ftp://m', 3], endpoint: 'http://x/path', tls: {} } },
    retries: -1, maxConcurrentDownloads: 1000, noProgressTimeoutSeconds: 0.5, proxy: 'x',
  }, 'registries.json'), (err: Error) => {
    for (const m of [
      /registries\["bad host!"\]: the key must be a registry host\[:port\]/,
      /registries\["ok\.lan"\]\.insecure: must be true or false/,
      /registries\["ok\.lan"\]\.mirrors\[0\]: "ftp:\/\/m" is not host\[:port\] or an http\(s\):\/\/ URL/,
      /registries\["ok\.lan"\]\.mirrors\[1\]: "3"/,
      /registries\["ok\.lan"\]\.endpoint: must be host\[:port\] or an http\(s\):\/\/ URL/,
      /registries\["ok\.lan"\]\.tls: unknown field/,
      /retries: must be an integer from 0 to 20/,
      /maxConcurrentDownloads: must be an integer from 1 to 64/,
      /noProgressTimeoutSeconds: must be an integer from 1 to 3600/,
      /proxy: unknown field/,
    ]) assert.match(err.message, m);
    return true;
  });
  writeFileSync(join(dir, 'registries.json'), '{ not json');
  assert.throws(() => loadRegistriesConfig(dir), /registries\.json.*not valid JSON/);
});

test('WWW-Authenticate: several challenges, quoted values with commas and escapes', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="r\\"q", Bearer realm=x'), [
    { scheme: 'basic', params: { realm: 'r"q' } }, { scheme: 'bearer', params: { realm: 'x' } },
  ]);
  assert.deepEqual(parseChallenges(''), []);
});

test('credentials: docker and auth.json key forms, the most specific repository key; docker.io stored under docker\'s key', async () => {
  const file = join(dir, 'config.json');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  writeFileSync(file, JSON.stringify({ auths: {
    'https://index.docker.io/v1/': { auth: b64('hub:pw') },
    'reg.lan': { auth: b64('lan:pw') },
    'reg.lan/team': { auth: b64('team:pw') },
    'broken.lan': { auth: b64('nocolon') },
  } }));
  assert.deepEqual(findCredentials('docker.io', file), { username: 'hub', password: 'pw' });
  assert.deepEqual(findCredentials('reg.lan', file, 'other/app'), { username: 'lan', password: 'pw' });
  assert.deepEqual(findCredentials('reg.lan', file, 'team/app'), { username: 'team', password: 'pw' });
  assert.equal(findCredentials('none.lan', file), undefined);
  assert.throws(() => findCredentials('broken.lan', file), /auths\["broken\.lan"\]\.auth: not base64 of "user:password"/);
  writeFileSync(join(dir, 'array.json'), '[]');
  assert.throws(() => findCredentials('x', join(dir, 'array.json')), /invalid JSON: not a JSON object/);
  writeFileSync(join(dir, 'token.json'), JSON.stringify({ auths: { 'oauth.lan': { auth: b64('u:p'), identitytoken: 'refresh-me' } } }));
  assert.deepEqual(findCredentials('oauth.lan', join(dir, 'token.json')), { username: '', password: '', identityToken: 'refresh-me' });

  writeFileSync(file, JSON.stringify({ auths: { 'docker.io': { auth: b64('old:pw') } } }));
  await storeCredentials('docker.io', { username: 'new', password: 'p:w' }, file);
  const auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, unknown> }).auths;
  assert.deepEqual(Object.keys(auths), ['https://index.docker.io/v1/'], 'the key docker\'s CLI uses, replacing the other form');
  assert.deepEqual(findCredentials('docker.io', file), { username: 'new', password: 'p:w' });
  assert.equal(await removeCredentials('docker.io', file), true);
  assert.equal(await removeCredentials('docker.io', file), false);
  assert.equal(await removeCredentials('never.lan', join(dir, 'no-such-config.json')), false);
});

test('credential helpers: get, store and erase through docker-credential-NAME; credHelpers before credsStore; identity tokens', async () => {
  const bin = join(dir, 'bin');
  const main = installCredentialHelper(bin, 'skiff-unit');
  const other = installCredentialHelper(bin, 'skiff-other');
  installCredentialHelper(bin, 'skiff-broken', { SKIFF_TEST_CREDENTIAL_FAIL: 'the keyring is locked' });
  process.env.PATH = `${bin}:${savedPath}`;
  writeFileSync(main.store, JSON.stringify({ 'reg.lan': { Username: 'u', Secret: 's' }, 'https://index.docker.io/v1/': { Username: '<token>', Secret: 'refresh-1' } }));
  const file = join(dir, 'helpers.json');
  writeFileSync(file, JSON.stringify({
    credsStore: 'skiff-unit', credHelpers: { 'other.lan': 'skiff-other', 'plain.lan': '', 'broken.lan': 'skiff-broken', 'gone.lan': 'skiff-not-installed' },
    auths: { 'reg.lan': { auth: Buffer.from('ignored:pw').toString('base64') }, 'plain.lan': { auth: Buffer.from('p:pw').toString('base64') } },
  }));
  assert.deepEqual(findCredentials('reg.lan', file), { username: 'u', password: 's' }, 'the helper, not the auths entry');
  assert.deepEqual(findCredentials('docker.io', file), { username: '', password: '', identityToken: 'refresh-1' });
  assert.equal(findCredentials('none.lan', file), undefined, '"credentials not found" is anonymous');
  assert.deepEqual(main.calls().map((c) => [c.action, c.input]), [['get', 'reg.lan'], ['get', 'https://index.docker.io/v1/'], ['get', 'none.lan']]);
  assert.equal(findCredentials('other.lan', file), undefined);
  assert.deepEqual(other.calls(), [{ action: 'get', input: 'other.lan' }]);
  assert.deepEqual(findCredentials('plain.lan', file), { username: 'p', password: 'pw' }, 'an empty credHelpers entry means this file');
  assert.throws(() => findCredentials('broken.lan', file), /docker-credential-skiff-broken get broken\.lan \(credHelpers\["broken\.lan"\] in .*helpers\.json\): the keyring is locked/);

  const warnings: string[] = [];
  assert.deepEqual(lookupCredentials('gone.lan', file, undefined, (l) => warnings.push(l)), {
    missing: `credential helper docker-credential-skiff-not-installed (credHelpers["gone.lan"] in ${file}) is not installed`,
  });
  assert.deepEqual(warnings, [`credential helper docker-credential-skiff-not-installed (credHelpers["gone.lan"] in ${file}) is not installed; continuing without credentials for gone.lan`]);

  await storeCredentials('new.lan:5000', { username: 'n', password: 'secret' }, file);
  assert.deepEqual(JSON.parse(readFileSync(main.store, 'utf8'))['new.lan:5000'], { Username: 'n', Secret: 'secret' });
  const written = readFileSync(file, 'utf8');
  assert.ok(!written.includes(Buffer.from('n:secret').toString('base64')) && !written.includes('secret'), 'no secret in the file');
  assert.deepEqual((JSON.parse(written) as { auths: Record<string, unknown> }).auths['new.lan:5000'], {});
  assert.deepEqual(findCredentials('new.lan:5000', file), { username: 'n', password: 'secret' });
  assert.equal(await removeCredentials('new.lan:5000', file), true);
  assert.equal(JSON.parse(readFileSync(main.store, 'utf8'))['new.lan:5000'], undefined);
  assert.equal(await removeCredentials('new.lan:5000', file), false);
  assert.deepEqual(main.calls().slice(-5).map((c) => c.action), ['store', 'get', 'get', 'erase', 'get']);
  assert.deepEqual(JSON.parse(main.calls().slice(-5)[0].input), { ServerURL: 'new.lan:5000', Username: 'n', Secret: 'secret' });

  writeFileSync(join(dir, 'bad-helper.json'), JSON.stringify({ credsStore: '../../bin/sh' }));
  assert.throws(() => findCredentials('x.lan', join(dir, 'bad-helper.json')), /bad-helper\.json: credsStore: "\.\.\/\.\.\/bin\/sh" is not a credential helper name/);
  writeFileSync(join(dir, 'bad-helpers.json'), JSON.stringify({ credHelpers: ['x'] }));
  assert.throws(() => findCredentials('x.lan', join(dir, 'bad-helpers.json')), /bad-helpers\.json: credHelpers: must be an object of registry -> helper name/);
});

test('retries: transient errors again after a pause, others at once; Retry-After honoured', async () => {
  const said: string[] = [];
  let calls = 0;
  const r = await withRetries({ retries: 2, noProgressTimeoutMs: 1000, onRetry: (m) => said.push(m) }, 'x', async () => {
    if (++calls < 3) throw new TransientError('HTTP 503', calls === 1 ? 1 : undefined);
    return 'ok';
  });
  assert.equal(r, 'ok');
  assert.deepEqual(said, ['x: HTTP 503; retrying in 0.0s (1/2)', 'x: HTTP 503; retrying in 0.4s (2/2)']);
  calls = 0;
  await assert.rejects(withRetries({ retries: 5, noProgressTimeoutMs: 1000 }, 'x', async () => {
    calls++;
    throw new Error('permanent');
  }), /permanent/);
  assert.equal(calls, 1);
});
