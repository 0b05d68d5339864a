// What the `skiff network` commands share: the network services for the global --root and --state, JSON output.
import type { Command } from 'commander';
import { join } from 'node:path';
import { NetnsStore } from '../../network/netns.js';
import { Networks } from '../../network/networks.js';
import { contextOf } from './context.js';
import { printOut } from '../common/print.js';

export function networkServices(cmd: Command): { networks: Networks; netns: NetnsStore } {
  const ctx = contextOf(cmd);
  return { networks: new Networks({ root: ctx.root, state: ctx.state }), netns: new NetnsStore(join(ctx.state, 'netns')) };
}

export const printJson = (v: unknown) => printOut(JSON.stringify(v, null, 2) + '\n');
