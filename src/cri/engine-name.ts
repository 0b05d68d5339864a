// The name a CRI object gets among the engine's containers or pods: containerd's joined metadata
// (name_namespace_uid_attempt and the like). The engine keeps names to 255 bytes (a file each); a longer one keeps
// its start and gets a hash of the whole, so it stays unique. CRI clients never see it: they get the metadata back.
import { createHash } from 'node:crypto';

export function engineName(parts: string[]): string {
  const full = parts.join('_');
  if (Buffer.byteLength(full) <= 255) return full;
  const start = Buffer.from(full).subarray(0, 200).toString('latin1').replace(/[^\w.-]/g, '');
  return `${start}_${createHash('sha256').update(full).digest('hex').slice(0, 32)}`;
}
