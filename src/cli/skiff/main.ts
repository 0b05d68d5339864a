#!/usr/bin/env node
// `skiff`: the user CLI. Each command lives in its own file and registers itself on the program here.
import { Command } from 'commander';
import { runCli } from '../common/run-cli.js';
import { DEFAULT_ROOT, DEFAULT_STATE } from './context.js';
import * as imageInspect from './image-inspect.js';
import * as imageMount from './image-mount.js';
import * as imagePrune from './image-prune.js';
import * as imageUnmount from './image-unmount.js';
import * as images from './images.js';
import * as load from './load.js';
import * as login from './login.js';
import * as logout from './logout.js';
import * as network from './network.js';
import * as pull from './pull.js';
import * as push from './push.js';
import * as rmi from './rmi.js';
import * as run from './run.js';
import * as create from './create.js';
import * as start from './start.js';
import * as stop from './stop.js';
import * as kill from './kill.js';
import * as restart from './restart.js';
import * as rm from './rm.js';
import * as ps from './ps.js';
import * as logs from './logs.js';
import * as exec from './exec.js';
import * as inspect from './inspect.js';
import * as wait from './wait.js';
import * as rename from './rename.js';
import * as container from './container.js';
import * as save from './save.js';
import * as tag from './tag.js';

const program = new Command('skiff')
  .description('run and manage containers, images and networks')
  .option('--root <dir>', 'persistent data directory', DEFAULT_ROOT)
  .option('--state <dir>', 'runtime state directory', DEFAULT_STATE)
  .enablePositionalOptions();

// Command modules: each exports `register(program: Command): void`.
const modules: { register(program: Command): void }[] = [run, create, start, stop, kill, restart, rm, ps, logs, exec, inspect, wait, rename, container, pull, push, login, logout, images, tag, rmi, imageInspect, imagePrune, imageMount, imageUnmount, load, save, network];
for (const m of modules) m.register(program);

await runCli(program);
