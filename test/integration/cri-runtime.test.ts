// skiffd's RuntimeService as far as it stands without the engine: Version, Status (NetworkReady follows the CNI
// configuration directory), UpdateRuntimeConfig (the pod CIDR, kept across a restart), the calls a runtime without
// checkpoints or metrics answers as containerd does, and the calls still waiting for the engine and pods.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { criClient, type CriClient } from '../helpers/cri-client.js';
import { crictl } from '../helpers/crictl.js';
import { startSkiffd, stopAndClean, type TestSkiffd } from '../helpers/skiffd.js';

let skiffd: TestSkiffd;
let cri: CriClient;
let cniDir: string;

const errorOf = async (p: Promise<unknown>) => p.then(() => assert.fail('expected an error'), (e: ServiceError) => e);

before(async () => {
  // A CNI configuration directory of its own, empty to begin with.
  const dir = mkdtempSync(join(tmpdir(), 'skiffd-runtime-'));
  cniDir = join(dir, 'net.d');
  mkdirSync(cniDir);
  skiffd = await startSkiffd(['--cni-conf-dir', cniDir], dir);
  cri = criClient(skiffd.socket);
});

after(async () => {
  cri?.close();
  if (skiffd) await stopAndClean(skiffd);
});

describe('skiffd RuntimeService', () => {
  test('crictl version: runtime skiff, CRI v1', () => {
    const v = crictl(skiffd.socket, ['version']);
    assert.equal(v.code, 0, v.err);
    assert.equal(v.out, 'Version:  0.1.0\nRuntimeName:  skiff\nRuntimeVersion:  0.1.0\nRuntimeApiVersion:  v1\n');
  });

  test('Status: RuntimeReady, and NetworkReady once a CNI network configuration is in the directory', async () => {
    const without = await cri.runtime.Status({});
    assert.deepEqual(without.status!.conditions, [
      { type: 'RuntimeReady', status: true, reason: '', message: '' },
      { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `Network plugin returns error: no CNI network configuration in ${cniDir}` },
    ]);
    assert.deepEqual(without.info, {}, 'no info without verbose');
    writeFileSync(join(cniDir, '10-pods.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge', bridge: 'cri0' }] }));
    const info = crictl(skiffd.socket, ['info']);
    assert.equal(info.code, 0, info.err);
    const parsed = JSON.parse(info.out) as { status: { conditions: { type: string; status: boolean }[] }; cni: { podNetwork: { name: string; file: string } }; config: { cniConfDir: string } };
    assert.deepEqual(parsed.status.conditions.map((c) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
    assert.deepEqual(parsed.cni.podNetwork, { name: 'pods', file: join(cniDir, '10-pods.conflist'), cniVersion: '1.0.0' });
    assert.equal(parsed.config.cniConfDir, cniDir);
  });

  test('UpdateRuntimeConfig keeps the pod CIDRs for the next skiffd; a bad one is INVALID_ARGUMENT naming the field', async () => {
    assert.deepEqual(await cri.runtime.UpdateRuntimeConfig({ runtime_config: { network_config: { pod_cidr: '10.244.3.0/24,fd00:10:244:3::/64' } } }), {});
    const file = join(skiffd.state, 'skiffd', 'pod-cidr.json');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), ['10.244.3.0/24', 'fd00:10:244:3::/64']);
    // Empty: nothing changes.
    await cri.runtime.UpdateRuntimeConfig({ runtime_config: { network_config: { pod_cidr: '' } } });
    const bad = await errorOf(cri.runtime.UpdateRuntimeConfig({ runtime_config: { network_config: { pod_cidr: '10.244.3.0/33' } } }));
    assert.deepEqual([bad.code, bad.details], [status.INVALID_ARGUMENT, 'runtime_config.network_config.pod_cidr: "10.244.3.0/33" is not a CIDR (e.g. 10.244.1.0/24)']);
    cri.close();
    await skiffd.stop();
    skiffd = await startSkiffd(['--cni-conf-dir', cniDir], skiffd.dir);
    cri = criClient(skiffd.socket);
    const verbose = await cri.runtime.Status({ verbose: true });
    assert.deepEqual((JSON.parse(verbose.info!.cni) as { podCidrs: string[] }).podCidrs, ['10.244.3.0/24', 'fd00:10:244:3::/64']);
  });

  test('CheckpointContainer, ListMetricDescriptors and ListPodSandboxMetrics answer UNIMPLEMENTED as containerd does', async () => {
    for (const [method, call] of [
      ['CheckpointContainer', () => cri.runtime.CheckpointContainer({ container_id: 'c1', location: '/tmp/c1.tar' })],
      ['ListMetricDescriptors', () => cri.runtime.ListMetricDescriptors({})],
      ['ListPodSandboxMetrics', () => cri.runtime.ListPodSandboxMetrics({})],
    ] as const) {
      const e = await errorOf(call());
      assert.deepEqual([e.code, e.details], [status.UNIMPLEMENTED, `method ${method} not implemented`]);
    }
    const viaCrictl = crictl(skiffd.socket, ['checkpoint', 'c1']);
    assert.match(viaCrictl.err, /code = Unimplemented desc = method CheckpointContainer not implemented/);
  });

  test('a fresh store: no pods, no containers; an unknown container is NOT_FOUND', async () => {
    assert.deepEqual(await cri.runtime.ListPodSandbox({}), { items: [] });
    const pods = crictl(skiffd.socket, ['pods', '-q']);
    assert.deepEqual([pods.code, pods.out, pods.err], [0, '', '']);
    assert.deepEqual(await cri.runtime.ListContainers({}), { containers: [] });
    const missing = await errorOf(cri.runtime.Exec({ container_id: 'c1', cmd: ['sh'], stdout: true }));
    assert.deepEqual([missing.code, missing.details], [status.NOT_FOUND, 'container "c1" not found']);
  });
});
