// The pause's launch plan: a pure function of the pod's options, read step by step (no root needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLONE, MS } from '../../src/common/linux-flags.js';
import { step } from '../../src/native/step.js';
import { pausePlan } from '../../src/pod/pause.js';

test('pause: the pin directory shared and /dev/shm mounted before the clone, its namespaces pinned by the pause before it runs', () => {
  const dirSteps = [step('mount', ['', '/s/pins', '', MS.SHARED | MS.REC, '']), step('mount', ['shm', '/s/shm/p1', 'tmpfs', MS.NOSUID, 'size=64k'])];
  const pin = (t: string) => step('mount', [`/proc/self/ns/${t}`, `/s/pins/p1-${t}`, '', MS.BIND, ''], `share.${t}`);
  const plan = pausePlan({
    share: { ipc: true, uts: true, pid: true, net: true }, netns: '/s/netns/p1', newNetwork: false, sysctls: {},
    hostSteps: dirSteps, pinSteps: [pin('ipc'), pin('uts'), pin('pid')],
  }, '/bin/skiff-init', ['/sys/fs/cgroup/pids/skiff/p1/tasks']);
  const ops = plan.map((s) => s.op);
  const clone = ops.indexOf('clone');
  assert.equal(plan[clone].args[0], CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWPID);
  assert.deepEqual(ops.slice(0, clone), ['cgroup-open', 'mount', 'mount', 'setns'], 'the host steps run in the first phase');
  assert.equal(ops[clone + 1], 'cgroup-join');
  const pins = plan.filter((s) => s.args[0]?.toString().startsWith('/proc/self/ns/'));
  assert.deepEqual(pins.map((s) => s.field), ['share.ipc', 'share.uts', 'share.pid']);
  assert.ok(plan.indexOf(pins[2]) < ops.indexOf('ready'), 'pinned before the pause is let go');
  const bare = pausePlan({ share: { ipc: true, uts: false, pid: false, net: false }, newNetwork: true, sysctls: {} }, '/bin/skiff-init');
  assert.ok(!bare.some((s) => s.op === 'mount'), 'no pins asked, none made');
});
