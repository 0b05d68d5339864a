// The cgroup v2 device filter is BPF bytecode built from the rules; these tests read the instructions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceFilterProgram } from '../../src/cgroups/device-filter.js';

const insns = (b: Buffer) => Array.from({ length: b.length / 8 }, (_, i) => ({
  code: b[i * 8], dst: b[i * 8 + 1] & 0xf, src: b[i * 8 + 1] >> 4, off: b.readInt16LE(i * 8 + 2), imm: b.readInt32LE(i * 8 + 4),
}));

test('deny-all then allow /dev/null: the allow is checked first, and nothing follows the catch-all', () => {
  const p = insns(deviceFilterProgram([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]));
  // 6 prologue loads, then: type != c -> skip, major != 1 -> skip, minor != 3 -> skip, r0 = 1, exit; then r0 = 0, exit.
  assert.equal(p.length, 6 + 5 + 2);
  assert.deepEqual(p.slice(6, 9).map((i) => [i.code, i.dst, i.off, i.imm]), [[0x55, 2, 4, 2], [0x55, 4, 3, 1], [0x55, 5, 2, 3]]);
  assert.deepEqual(p.slice(9).map((i) => [i.code, i.imm]), [[0xb7, 1], [0x95, 0], [0xb7, 0], [0x95, 0]]);
});

test('an access subset is checked as (request & ~allowed) == 0; no catch-all ends with the default deny', () => {
  const p = insns(deviceFilterProgram([{ allow: true, type: 'b', major: -1, minor: -1, access: 'm' }]));
  assert.deepEqual(p.slice(6).map((i) => [i.code, i.dst, i.off, i.imm]), [
    [0x55, 2, 5, 1], [0xbf, 1, 0, 0], [0x57, 1, 0, 6], [0x55, 1, 2, 0], [0xb7, 0, 0, 1], [0x95, 0, 0, 0], [0xb7, 0, 0, 0], [0x95, 0, 0, 0],
  ]);
});
