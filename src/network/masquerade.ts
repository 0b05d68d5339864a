// Masquerading for a bridge network skiff creates: one rule per subnet, in a chain of the network's own, made when
// the network is first attached after a boot (or after a flush of the nat table), as docker and netavark do. The
// bridge plugin's ipMasq instead makes a chain and rules per container, which here is 9 iptables processes at every
// ADD and 5 at every DEL: about a tenth of a pod's start and stop. An attach costs one check (`iptables -C`).
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SkiffError } from '../common/errors.js';
import { isExecutableFile } from '../common/executable.js';
import { withLock } from '../common/lock.js';
import { runProgram } from '../native/program.js';

export interface Masquerade {
  network: string;
  /** The network's subnets, CIDR: traffic from them to anywhere else (but multicast) leaves with the host's address. */
  subnets: string[];
}

const SBIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** iptables' chain names are at most 28 characters: the network's name is hashed. */
export function masqueradeChain(network: string): string {
  return `SKIFF-${createHash('sha256').update(network).digest('hex').slice(0, 16).toUpperCase()}`;
}

/** The POSTROUTING rule that sends `subnet`'s traffic to the chain, as iptables arguments after -A/-C/-D. */
function jumpRule(m: Masquerade, subnet: string): string[] {
  return ['POSTROUTING', '-s', subnet, '-m', 'comment', '--comment', `skiff network ${m.network}`, '-j', masqueradeChain(m.network)];
}

function tool(name: string): string {
  const path = SBIN.map((d) => join(d, name)).find(isExecutableFile);
  if (!path) throw new SkiffError(`${name} is not installed (looked in ${SBIN.join(', ')}): it masquerades the network's traffic`, 'ENOENT');
  return path;
}

async function iptables(args: string[], input = ''): Promise<{ code: number | null; stderr: string }> {
  const name = input ? 'iptables-restore' : 'iptables';
  const r = await runProgram({ path: tool(name), args: ['-w', ...args], env: { PATH: SBIN.join(':') }, input, timeoutMs: 30_000, stderrLimit: 2000 });
  if (r.timedOut) throw new SkiffError(`${name} ${args.join(' ')}: no answer in 30 s`, 'ETIMEDOUT');
  return r;
}

async function inPlace(m: Masquerade): Promise<boolean> {
  for (const s of m.subnets) if ((await iptables(['-t', 'nat', '-C', ...jumpRule(m, s)])).code !== 0) return false;
  return true;
}

/** Makes the chain and its rules unless they are there; `lockPath` serializes skiff processes doing the same. */
export async function ensureMasquerade(m: Masquerade, lockPath: string): Promise<void> {
  if (await inPlace(m)) return;
  mkdirSync(dirname(lockPath), { recursive: true });
  await withLock(lockPath, `masquerade of network ${m.network}`, async () => {
    if (await inPlace(m)) return;
    const chain = masqueradeChain(m.network);
    // --noflush keeps every other rule; a chain declared in the input is created, or flushed if it exists.
    const lines = ['*nat', `:${chain} - [0:0]`];
    for (const s of m.subnets) lines.push(`-A ${chain} -d ${s} -j RETURN`);
    lines.push(`-A ${chain} -d 224.0.0.0/4 -j RETURN`, `-A ${chain} -j MASQUERADE`);
    // A jump already there (the chain was flushed by hand) is deleted first, so it is never doubled.
    for (const s of m.subnets) {
      const rule = jumpRule(m, s);
      while ((await iptables(['-t', 'nat', '-D', ...rule])).code === 0);
      lines.push(`-A ${rule.map(quote).join(' ')}`);
    }
    const r = await iptables(['--noflush'], [...lines, 'COMMIT', ''].join('\n'));
    if (r.code !== 0) throw new SkiffError(`network ${m.network}: masquerade: iptables-restore: ${r.stderr.trim()}`, 'EIO');
  });
}

/** Removes the jumps and the chain (a network removed); what is not there is fine. */
export async function removeMasquerade(m: Masquerade): Promise<void> {
  for (const s of m.subnets) while ((await iptables(['-t', 'nat', '-D', ...jumpRule(m, s)])).code === 0);
  const chain = masqueradeChain(m.network);
  if ((await iptables(['-t', 'nat', '-F', chain])).code !== 0) return;
  const r = await iptables(['-t', 'nat', '-X', chain]);
  if (r.code !== 0) throw new SkiffError(`network ${m.network}: masquerade: iptables -X ${chain}: ${r.stderr.trim()}`, 'EIO');
}

/** iptables-restore splits a rule as a shell would; the comment has spaces. */
function quote(arg: string): string {
  return /^[\w./:-]+$/.test(arg) ? arg : `"${arg.replace(/["\\]/g, '\\$&')}"`;
}
