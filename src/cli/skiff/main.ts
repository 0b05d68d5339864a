#!/usr/bin/env node
// `skiff`: the user CLI. Each command lives in its own file and registers itself on the program here.
import { Command } from 'commander';
import { runCli } from '../common/run-cli.js';
import { DEFAULT_ROOT, DEFAULT_STATE } from './context.js';
import * as imageCommands from './image-commands.js';
import * as imageMount from './image-mount.js';
import * as imageUnmount from './image-unmount.js';
import * as images from './images.js';
import * as load from './load.js';
import * as network from './network.js';
import * as pull from './pull.js';
import * as run from './run.js';
import * as save from './save.js';

const program = new Command('skiff')
  .description('run and manage containers, images and networks')
  .option('--root <dir>', 'persistent data directory', DEFAULT_ROOT)
  .option('--state <dir>', 'runtime state directory', DEFAULT_STATE)
  .enablePositionalOptions()
  .showHelpAfterError();

// Command modules: each exports `register(program: Command): void`.
const modules: { register(program: Command): void }[] = [run, pull, images, imageCommands, imageMount, imageUnmount, load, save, network];
for (const m of modules) m.register(program);

await runCli(program);
