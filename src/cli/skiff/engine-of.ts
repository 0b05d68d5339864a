// The engine for a `skiff` command: the global --root and --state, and the exit command the monitor runs when a
// container exits (this same program: `skiff container cleanup ID`), so that --rm, restart policies and teardown
// happen with no skiff process left.
import type { Command } from 'commander';
import { Engine } from '../../engine/engine.js';
import { contextOf } from './context.js';

export function engineOf(cmd: Command): Engine {
  const { root, state } = contextOf(cmd);
  const self = [process.execPath, ...process.execArgv, process.argv[1]];
  const engine = new Engine({ root, state, exitCommand: (id) => [...self, '--root', root, '--state', state, 'container', 'cleanup', id] });
  // A command that starts helpers or CNI plugins forks Node once for the zygote, not once for each of them.
  engine.useHelperZygoteWhenNeeded();
  return engine;
}
