// Test bundles: a busybox rootfs and a config.json from the default spec, adjusted per test. Each bundle lives in
// its own temp dir, removed by `cleanup`, along with any container the test left under its runtime root.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBusyboxRootfs } from '../../src/image/busybox-rootfs.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/runtime-spec.js';
import { Runtime } from '../../src/runtime/runtime.js';

export interface TestBundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  /** Writes `spec` (after the test changed it) to config.json. */
  save(): void;
}

export function makeBundle(parent: string, args: string[] = ['sh', '-c', 'true'], edit?: (spec: Spec) => void): TestBundle {
  const dir = mkdtempSync(join(parent, 'bundle-'));
  chmodSync(dir, 0o755); // a container in a user namespace must be able to reach its rootfs
  const rootfs = join(dir, 'rootfs');
  makeBusyboxRootfs(rootfs);
  const spec = defaultSpec();
  spec.process!.args = args;
  spec.process!.terminal = false;
  edit?.(spec);
  const bundle = { dir, rootfs, spec, save: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2)) };
  bundle.save();
  return bundle;
}

/** A scratch area with its own runtime root, so tests never see each other's containers. */
export class Scratch {
  readonly dir = makeDir(mkdtempSync(join(tmpdir(), 'skiff-test-')));
  readonly runtimeRoot = join(this.dir, 'state');
  readonly runtime = new Runtime({ root: this.runtimeRoot, warn: () => {} });

  bundle(args?: string[], edit?: (spec: Spec) => void): TestBundle {
    return makeBundle(this.dir, args, edit);
  }

  /** Force-deletes every container left under this root, then removes the scratch directory. */
  async cleanup(): Promise<void> {
    for (const id of await this.runtime.store.ids()) {
      await this.runtime.delete(id, { force: true }).catch(() => {});
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function makeDir(dir: string): string {
  chmodSync(dir, 0o755);
  return dir;
}
