#!/usr/bin/env node
// skiff-runtime: an OCI runtime with runc's command line, so podman (conmon), containerd and CRI-O can drive it.
import { Command } from 'commander';
import { runCli } from '../common/run-cli.js';
import { DEFAULT_RUNTIME_ROOT } from '../../runtime/container-store.js';
import { logLine, type GlobalOptions } from './context.js';
import * as create from './create.js';
import * as del from './delete.js';
import * as events from './events.js';
import * as exec from './exec.js';
import * as features from './features.js';
import * as kill from './kill.js';
import * as list from './list.js';
import * as pause from './pause.js';
import * as ps from './ps.js';
import * as run from './run.js';
import * as spec from './spec.js';
import * as start from './start.js';
import * as state from './state.js';
import * as update from './update.js';

const program = new Command('skiff-runtime')
  .description('run OCI containers (runc-compatible command line)')
  .version('skiff-runtime version 0.1.0\nspec: 1.2.0', '-v, --version')
  .option('--root <dir>', 'root directory for container state', DEFAULT_RUNTIME_ROOT)
  .option('--log <file>', 'log file (runc-style)')
  .option('--log-format <format>', 'log format: text or json', 'text')
  .option('--debug', 'enable debug logging')
  .option('--systemd-cgroup', 'use the systemd cgroup driver (not supported)')
  .option('--rootless <value>', 'ignore cgroup permission errors (true, false, auto)', 'auto')
  .enablePositionalOptions();

for (const m of [spec, create, start, run, state, kill, del, list, exec, ps, pause, update, events, features]) m.register(program);

await runCli(program, process.argv, (message) => {
  const o = program.opts() as GlobalOptions;
  if (o.log) logLine(o, 'error', message);
});
