// The CRI proto skiffd serves is runtime.v1 of Kubernetes 1.26 on the wire: its descriptor (services, messages,
// enums, names, numbers, types; comments aside) hashes to what k8s.io/cri-api v0.26.1's api.proto gives with its
// gogoproto options and go_package removed, checked when the proto was written. A change to the wire definition
// fails here; one to the comments does not.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { API_DESCRIPTOR } from '../../src/cri/proto/generated/descriptor.js';
import { criPackage } from '../../src/cri/proto/load.js';

const UPSTREAM_V0_26_1 = '27b9bbe80ce19ab4d108b3d572a27a4c8c2119bd3d657ef0c89bc592ce4161e6';

test('the wire definition is cri-api v0.26.1 runtime.v1', () => {
  assert.equal(createHash('sha256').update(JSON.stringify(API_DESCRIPTOR)).digest('hex'), UPSTREAM_V0_26_1);
});

test('both services load, with their methods under their API paths', () => {
  const cri = criPackage();
  const runtime = cri.RuntimeService.service;
  assert.equal(Object.keys(runtime).length, 28);
  assert.equal(runtime.Version.path, '/runtime.v1.RuntimeService/Version');
  assert.equal(runtime.GetContainerEvents.responseStream, true);
  assert.deepEqual(Object.keys(cri.ImageService.service).sort(), ['ImageFsInfo', 'ImageStatus', 'ListImages', 'PullImage', 'RemoveImage']);
  // Loader options: snake_case names, int64 as decimal strings, enums by name, proto3 defaults.
  const decoded = runtime.ContainerStatus.responseDeserialize(runtime.ContainerStatus.responseSerialize({ status: { id: 'c', state: 'CONTAINER_EXITED', created_at: '1700000000123456789' } }));
  assert.equal(decoded.status?.created_at, '1700000000123456789');
  assert.equal(decoded.status?.state, 'CONTAINER_EXITED');
  assert.equal(decoded.status?.exit_code, 0);
  assert.deepEqual(decoded.info, {});
});
