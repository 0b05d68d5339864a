// What Node's fs cannot do for a layer: mknod(2) for devices, fifos and overlayfs whiteouts, and lsetxattr(2).
// LayerWriter collects them while it applies the tar and runs them at the end, all in one run of the native helper
// (a clone-less plan, docs/launch-plan.md), instead of a process per node: a layer deleting 2,000 files has 2,000
// whiteouts. Paths are given inside the layer; the helper resolves them there (openat2 RESOLVE_IN_ROOT).
import { launch } from '../../native/launcher.js';
import { step, type Step } from '../../native/step.js';

export type NodeKind = 'c' | 'b' | 'p';

/** stat(2)'s S_IF* type bits, which mknod(2) takes in its mode. */
const TYPE_BITS: Record<NodeKind, number> = { c: 0o020000, b: 0o060000, p: 0o010000 };

export class NativeSteps {
  private readonly steps: Step[] = [];
  /** In-layer paths of the nodes to be made, for hard links to them. */
  private readonly nodes = new Set<string>();

  constructor(private readonly root: string) {}

  /** A node at `path` (in the layer) unless the path exists by then: a later entry of the layer wins. */
  node(path: string, kind: NodeKind, mode: number, major: number, minor: number, uid: number, gid: number, mtime: Date, what: string): void {
    const ns = BigInt(mtime.getTime()) * 1_000_000n;
    this.steps.push(step('mknod-in', [this.root, path, TYPE_BITS[kind] | (mode & 0o7777), major, minor, uid, gid, ns], undefined, what));
    this.nodes.add(path);
  }

  /** An extended attribute on `path` ("/" is the layer directory). */
  xattr(path: string, name: string, value: Buffer, what: string): void {
    this.steps.push(step('xattr-in', [this.root, path, name, value.toString('hex')], undefined, `${what}: xattr ${name}`));
  }

  hasNode(path: string): boolean {
    return this.nodes.has(path);
  }

  /** A hard link to a node this batch makes. */
  link(target: string, path: string, what: string): void {
    this.steps.push(step('link-in', [this.root, target, path], undefined, what));
  }

  /** Runs everything collected; a failure names its entry. */
  async run(): Promise<void> {
    if (this.steps.length === 0) return;
    await launch({ plan: [...this.steps, step('ready')], stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
