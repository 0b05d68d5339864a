// config.json validation: every problem is reported, each with its JSON path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/common/errors.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { validateSpec } from '../../src/oci/validate.js';
import { fakeHost } from './fake-host.js';

function problems(edit: (s: Record<string, any>) => void, host = fakeHost()): string[] {
  const s = JSON.parse(JSON.stringify(defaultSpec()));
  edit(s);
  try {
    validateSpec(s, host);
    return [];
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('config.json validation', () => {
  test('the default spec is valid', () => {
    assert.deepEqual(problems(() => {}), []);
  });

  test('every problem is listed with its path', () => {
    const p = problems((s) => {
      s.process.cwd = 'rel';
      s.process.capabilities.bounding.push('CAP_NOPE');
      s.process.rlimits.push({ type: 'RLIMIT_BOGUS', soft: 2, hard: 1 });
      s.linux.namespaces.push({ type: 'pid' });
      s.mounts[1].destination = 'dev';
      s.hooks = { poststop: [{ path: 'relative' }] };
    });
    assert.deepEqual(p, [
      'process.cwd: must be an absolute path, not "rel"',
      'process.capabilities.bounding[3]: unknown capability "CAP_NOPE"',
      'process.rlimits[1].type: unknown value "RLIMIT_BOGUS" (one of RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME)',
      'process.rlimits[1]: soft limit 2 is above hard limit 1',
      'mounts[1].destination: must be an absolute path, not "dev"',
      'hooks.poststop[0].path: must be an absolute path, not "relative"',
      'linux.namespaces[5].type: namespace "pid" is listed twice',
    ]);
  });

  test('what this host cannot do is named', () => {
    const p = problems((s) => {
      s.process.apparmorProfile = 'docker-default';
      s.process.selinuxLabel = 'system_u:system_r:container_t:s0';
      s.process.oomScoreAdj = -500;
      s.process.rlimits[0].hard = 2000000;
    }, fakeHost({ capEff: 0n, hardRlimits: { RLIMIT_NOFILE: 1048576 } }));
    assert.ok(p.some((x) => x.startsWith('process.apparmorProfile: AppArmor is not enabled')));
    assert.ok(p.some((x) => x.startsWith('process.selinuxLabel: SELinux is not enabled')));
    assert.ok(p.some((x) => x.startsWith('process.oomScoreAdj: a negative value needs CAP_SYS_RESOURCE')));
    assert.ok(p.some((x) => x.startsWith('process.rlimits[0].hard: 2000000 is above')));
  });

  test('user namespaces need mappings; hostnames need a uts namespace; net sysctls a network namespace', () => {
    const p = problems((s) => {
      s.linux.namespaces = [{ type: 'user' }, { type: 'mount' }];
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'vm.swappiness': '1' };
    });
    assert.ok(p.includes('linux.uidMappings: is required with a new user namespace'));
    assert.ok(p.includes('hostname: setting the hostname needs a new uts namespace in linux.namespaces'));
    assert.ok(p.some((x) => x.startsWith('linux.sysctl["net.ipv4.ip_forward"]: net.* sysctls need a new network namespace')));
    assert.ok(p.some((x) => x.startsWith('linux.sysctl["vm.swappiness"]: is not namespaced')));
  });

  test('seccomp and resources problems carry their paths', () => {
    const p = problems((s) => {
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] }] };
      s.linux.resources = { memory: { limit: 'lots' }, unified: { 'memory.max': '1' } };
    });
    assert.ok(p.includes('linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'));
    assert.ok(p.some((x) => x.startsWith('linux.seccomp.syscalls[0].args[0].index')));
    assert.ok(p.includes('linux.resources.memory.limit: must be an integer'));
    assert.ok(p.some((x) => x.startsWith('linux.resources.unified: this host uses cgroup v1')));
  });
});
