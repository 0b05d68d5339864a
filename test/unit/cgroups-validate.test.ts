// linux.resources checks that need no cgroup: what is refused, and what is accepted but ignored (with one warning).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectCgroupSupport } from '../../src/cgroups/layout.js';
import { ignoredResources, validateResources } from '../../src/cgroups/validate.js';

const v1 = (kernelTCP: boolean) => ({ ...detectCgroupSupport('v2', '/nonexistent'), mode: 'v1' as const, controllers: new Set(['memory']), kernelTCP });
const KERNEL = 'linux.resources.memory.kernel is ignored: kernel memory limits are deprecated and Linux 5.16+ does not enforce them (runc ignores them too)';

describe('kernel memory limits', () => {
  test('never a problem, on v1 or v2, whatever the kernel has (CRI clients still send them)', () => {
    const r = { memory: { kernel: 1 << 30, kernelTCP: 1 << 20 } };
    assert.deepEqual(validateResources(r, 'linux.resources', 'v2', detectCgroupSupport('v2', '/nonexistent')), []);
    assert.deepEqual(validateResources(r, 'linux.resources', 'v1', v1(false)), []);
    assert.deepEqual(validateResources({ memory: { kernel: 'lots' } }, 'linux.resources', 'v1'),
      [{ path: 'linux.resources.memory.kernel', message: 'must be an integer' }]);
  });

  test('memory.kernel is always ignored; kernelTCP only where there is no memory.kmem.tcp.limit_in_bytes', () => {
    assert.equal(ignoredResources({ memory: { kernel: -1 } }, 'linux.resources', 'v1', v1(true)), KERNEL);
    assert.equal(ignoredResources({ memory: { kernelTCP: 1 } }, 'linux.resources', 'v1', v1(true)), undefined);
    assert.equal(ignoredResources({ memory: { kernel: 1, kernelTCP: 1 } }, 'linux.resources', 'v2'),
      'linux.resources.memory.kernel and linux.resources.memory.kernelTCP are ignored: kernel memory limits are deprecated and ' +
      'Linux 5.16+ does not enforce them (runc ignores them too); cgroup v2 has no kernel TCP memory limit');
    assert.equal(ignoredResources({ memory: { kernelTCP: 1 } }, 'linux.resources', 'v1', v1(false)),
      'linux.resources.memory.kernelTCP is ignored: this kernel has no memory.kmem.tcp.limit_in_bytes');
    assert.equal(ignoredResources({ memory: { limit: 1 } }, 'linux.resources', 'v1', v1(false)), undefined);
    assert.equal(ignoredResources({}, 'linux.resources', 'v2'), undefined);
  });
});
