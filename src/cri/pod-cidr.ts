// The node's pod CIDRs as the kubelet last sent them (UpdateRuntimeConfig), for the pod network to hand out. Kept
// in <state>/skiffd/pod-cidr.json because the kubelet sends them again only when they change: a skiffd restarted
// under a running kubelet must still know them.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

export class PodCidrs {
  private readonly file: string;
  private current: string[];

  constructor(state: string) {
    this.file = join(state, 'skiffd', 'pod-cidr.json');
    let stored: unknown;
    try {
      stored = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      // None yet, or a file a crash cut short: the kubelet's next UpdateRuntimeConfig writes it again.
    }
    this.current = Array.isArray(stored) && stored.every((c) => typeof c === 'string') ? stored : [];
  }

  get(): string[] {
    return [...this.current];
  }

  async set(cidrs: string[]): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(cidrs) + '\n', 0o644, false);
    this.current = [...cidrs];
  }
}
