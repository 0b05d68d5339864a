// Device access rules as a BPF_PROG_TYPE_CGROUP_DEVICE program, which is how cgroup v2 controls devices
// (Documentation/admin-guide/cgroup-v2.rst "Device controller"). Like runc's devicefilter, rules are checked
// last to first and the first match decides; nothing matching is denied. The native helper only loads the bytes.
import type { LinuxDeviceCgroup } from '../oci/runtime-spec.js';

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, access_type = access << 16 | type.
const DEV_BLOCK = 1, DEV_CHAR = 2;
const ACC = { m: 1, r: 2, w: 4 } as const;

// Opcodes (linux/bpf.h): class | op | source.
const LDX_W = 0x61, AND_K = 0x57, RSH_K = 0x77, MOV_X = 0xbf, MOV_K = 0xb7, JNE_K = 0x55, EXIT = 0x95;

function insn(code: number, dst: number, src: number, off: number, imm: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

/** One rule's test: jumps to the next rule when it does not match, else returns allow/deny. */
function ruleBlock(rule: LinuxDeviceCgroup): { code: Buffer[]; matchesAll: boolean } {
  const checks: ((skip: number) => Buffer[])[] = [];
  const type = rule.type ?? 'a';
  if (type !== 'a') checks.push((skip) => [insn(JNE_K, 2, 0, skip, type === 'b' ? DEV_BLOCK : DEV_CHAR)]);
  const allowed = [...(rule.access ?? 'rwm')].reduce((m, c) => m | ACC[c as keyof typeof ACC], 0);
  if (allowed !== 7) {
    // The requested access must be a subset of the rule's: (request & ~allowed) == 0.
    checks.push((skip) => [insn(MOV_X, 1, 3, 0, 0), insn(AND_K, 1, 0, 0, ~allowed & 7), insn(JNE_K, 1, 0, skip, 0)]);
  }
  if (type !== 'a' && rule.major != null && rule.major >= 0) checks.push((skip) => [insn(JNE_K, 4, 0, skip, rule.major!)]);
  if (type !== 'a' && rule.minor != null && rule.minor >= 0) checks.push((skip) => [insn(JNE_K, 5, 0, skip, rule.minor!)]);
  const verdict = [insn(MOV_K, 0, 0, 0, rule.allow ? 1 : 0), insn(EXIT, 0, 0, 0, 0)];
  // Built back to front: each check's jump (its last instruction) skips whatever follows it in the block.
  let tail: Buffer[] = verdict;
  for (const check of [...checks].reverse()) tail = [...check(tail.length), ...tail];
  return { code: tail, matchesAll: checks.length === 0 };
}

export function deviceFilterProgram(rules: LinuxDeviceCgroup[]): Buffer {
  const prologue = [
    insn(LDX_W, 2, 1, 0, 0), insn(AND_K, 2, 0, 0, 0xffff), // r2 = type
    insn(LDX_W, 3, 1, 0, 0), insn(RSH_K, 3, 0, 0, 16), // r3 = access
    insn(LDX_W, 4, 1, 4, 0), // r4 = major
    insn(LDX_W, 5, 1, 8, 0), // r5 = minor
  ];
  const body: Buffer[] = [];
  for (const rule of [...rules].reverse()) {
    const block = ruleBlock(rule);
    body.push(...block.code);
    // The verifier rejects unreachable instructions: nothing may follow a rule that matches every device.
    if (block.matchesAll) return Buffer.concat([...prologue, ...body]);
  }
  const deny = [insn(MOV_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)];
  return Buffer.concat([...prologue, ...body, ...deny]);
}
