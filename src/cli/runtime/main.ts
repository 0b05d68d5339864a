#!/usr/bin/env node
// skiff-runtime: an OCI runtime with runc's command line, so podman (conmon), containerd and CRI-O can drive it.
import { Command } from 'commander';
import { registerCommandsFor } from '../common/command-table.js';
import { takeDeferredCaCerts } from '../common/deferred-ca.js';
import { runCli } from '../common/run-cli.js';
import { DEFAULT_RUNTIME_ROOT } from '../../runtime/container-store.js';
import { logLine, type GlobalOptions } from './log.js';
import { RUNTIME_COMMANDS } from './commands.js';

// The runtime speaks no TLS: the environment is only put back for what it starts.
takeDeferredCaCerts();

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

// No top-level await: scripts/bundle.mjs makes the bundle's chunks CommonJS-style scripts, for V8's code cache.
void registerCommandsFor(program, RUNTIME_COMMANDS, process.argv.slice(2)).then(() => runCli(program, process.argv, (message) => {
  const o = program.opts() as GlobalOptions;
  if (o.log) logLine(o, 'error', message);
}));
