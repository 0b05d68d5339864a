// process.capabilities against what the host can give and what capset(2) accepts: each problem is a validation
// error naming the capability and its field, before anything is created.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateProcess } from '../../src/runtime/validate.js';
import { fakeHost } from './fake-host.js';
import { specProblems } from './spec-problems.js';

const CAP_SYS_RESOURCE = 24n;
/** A host like this machine: every capability up to 40 but CAP_SYS_RESOURCE. */
const noSysResource = fakeHost({ capBnd: ((1n << 41n) - 1n) & ~(1n << CAP_SYS_RESOURCE), capEff: ((1n << 41n) - 1n) & ~(1n << CAP_SYS_RESOURCE) });

const problems = (edit: (s: Record<string, any>) => void, host = noSysResource) => specProblems(edit, host);

const NOT_ON_HOST = 'this host does not have it (it is not in the runtime\'s capability bounding set, CapBnd in /proc/self/status): only a container with a user namespace can hold it';

describe('process.capabilities', () => {
  test('a capability outside the host\'s bounding set is named in every set that lists it', () => {
    const p = problems((s) => {
      for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set].push('CAP_SYS_RESOURCE');
    });
    assert.deepEqual(p, [
      `process.capabilities.bounding[3]: CAP_SYS_RESOURCE: ${NOT_ON_HOST}`,
      `process.capabilities.effective[3]: CAP_SYS_RESOURCE: ${NOT_ON_HOST}`,
      `process.capabilities.permitted[3]: CAP_SYS_RESOURCE: ${NOT_ON_HOST}`,
    ]);
  });

  test('one the runtime does not hold, though the bounding set has it', () => {
    const p = problems((s) => { s.process.capabilities.permitted.push('CAP_SYS_RESOURCE'); },
      fakeHost({ capEff: ((1n << 41n) - 1n) & ~(1n << CAP_SYS_RESOURCE) }));
    assert.deepEqual(p, ['process.capabilities.permitted[3]: CAP_SYS_RESOURCE: the runtime does not hold it (CapEff in /proc/self/status), so it cannot give it: only a container with a user namespace can hold it']);
  });

  test('in a user namespace the host\'s sets do not limit the container\'s', () => {
    const p = problems((s) => {
      for (const set of ['bounding', 'effective', 'permitted']) s.process.capabilities[set].push('CAP_SYS_RESOURCE');
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    assert.deepEqual(p, []);
  });

  test('effective outside permitted, inheritable outside bounding: what capset(2) would refuse', () => {
    const p = problems((s) => {
      s.process.capabilities.effective.push('CAP_CHOWN');
      s.process.capabilities.inheritable = ['CAP_KILL', 'CAP_FOWNER'];
    });
    assert.deepEqual(p, [
      'process.capabilities.effective[3]: CAP_CHOWN is not in process.capabilities.permitted, and capset(2) allows no effective capability outside the permitted set',
      'process.capabilities.inheritable[1]: CAP_FOWNER is not in process.capabilities.bounding, and capset(2) allows no inheritable capability outside the bounding set',
    ]);
  });

  test('an exec process is checked against the container\'s user namespace', () => {
    const proc = { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', capabilities: { permitted: ['CAP_SYS_RESOURCE'] } };
    assert.throws(() => validateProcess(proc, 'process.json', noSysResource, { userNamespace: false }),
      /process\.capabilities\.permitted\[0\]: CAP_SYS_RESOURCE: this host does not have it/);
    assert.equal(validateProcess(proc, 'process.json', noSysResource, { userNamespace: true }).cwd, '/');
  });
});
