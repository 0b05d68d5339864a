#!/usr/bin/env node
// `skiff`: the user CLI. Its commands are the table in commands.ts; only the one that runs is loaded.
import { Command } from 'commander';
import { registerCommandsFor } from '../common/command-table.js';
import { trustExtraCaCerts } from '../../image/registry/tls.js';
import { takeDeferredCaCerts } from '../common/deferred-ca.js';
import { runCli } from '../common/run-cli.js';
import { SKIFF_COMMANDS } from './commands.js';
import { DEFAULT_ROOT, DEFAULT_STATE } from './context.js';

const extraCa = takeDeferredCaCerts();
if (extraCa) trustExtraCaCerts(extraCa);

const program = new Command('skiff')
  .description('run and manage containers, images and networks')
  .option('--root <dir>', 'persistent data directory', DEFAULT_ROOT)
  .option('--state <dir>', 'runtime state directory', DEFAULT_STATE)
  .enablePositionalOptions();

// No top-level await: scripts/bundle.mjs makes the bundle's chunks CommonJS-style scripts, for V8's code cache.
void registerCommandsFor(program, SKIFF_COMMANDS, process.argv.slice(2)).then(() => runCli(program));
