// The kubelet's AuthConfig as registry credentials, in containerd's order, and only for its own registry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { credentialsFrom } from '../../src/cri/image-pull.js';
import type { AuthConfig__Output } from '../../src/cri/proto/generated/runtime/v1/AuthConfig.js';

const auth = (a: Partial<AuthConfig__Output>): AuthConfig__Output => ({ username: '', password: '', auth: '', server_address: '', identity_token: '', registry_token: '', ...a });

test('username and password first, then identity_token, then auth, then registry_token', () => {
  assert.deepEqual(credentialsFrom(auth({ username: 'u', password: 'p', identity_token: 'i', auth: 'x', registry_token: 't' }), 'r.io'), { username: 'u', password: 'p' });
  assert.deepEqual(credentialsFrom(auth({ identity_token: 'i', auth: Buffer.from('a:b').toString('base64') }), 'r.io'), { username: '', password: '', identityToken: 'i' });
  assert.deepEqual(credentialsFrom(auth({ auth: Buffer.from('a:b:c\0\0').toString('base64'), registry_token: 't' }), 'r.io'), { username: 'a', password: 'b:c' });
  assert.deepEqual(credentialsFrom(auth({ registry_token: 't' }), 'r.io'), { username: '', password: '', registryToken: 't' });
  assert.equal(credentialsFrom(auth({}), 'r.io'), undefined);
  assert.equal(credentialsFrom(null, 'r.io'), undefined);
  assert.throws(() => credentialsFrom(auth({ auth: Buffer.from('nocolon').toString('base64') }), 'r.io'), (e: { code: number }) => e.code === status.INVALID_ARGUMENT);
});

test('server_address must name the image\'s registry, in any of docker\'s spellings', () => {
  const creds = { username: 'u', password: 'p' };
  assert.deepEqual(credentialsFrom(auth({ ...creds, server_address: 'https://r.io:5000/' }), 'r.io:5000'), creds);
  assert.deepEqual(credentialsFrom(auth({ ...creds, server_address: 'https://index.docker.io/v1/' }), 'docker.io'), creds);
  assert.equal(credentialsFrom(auth({ ...creds, server_address: 'other.io' }), 'r.io'), undefined);
});
